import type { TaskIdText } from '../task-id.ts'
import { ByteReader, ByteWriter } from './byte-codec.ts'
import { UserDataEncodeError } from './errors.ts'
import type { TopicPartitions } from './tasks.ts'
import {
  finishRead,
  readHeader,
  readHostPartitions,
  readTaskSet,
  topicDictionary,
  writeHeader,
  writeHostPartitions,
  writeTaskSet
} from './userdata-layout.ts'

/*
 * Assignment userData: what the leader tells each member. Layout, version 1 (after the 3-byte header of
 * userdata-layout.ts, magic 0x41):
 *
 *   errorCode              u8        AssignmentErrorCode; first so even a degraded reader can report it
 *   flags                  u8        bit 0: followupRebalance. Unknown bits are ignored.
 *   nextRebalanceDelayMs   varint    rejoin after this many ms (0 = right after revoking), -1 = no rebalance needed
 *   acceptableRecoveryLag  varlong   threshold under which this member's warm-ups count as caught up
 *   activeTasks            task set
 *   standbyTasks           task set
 *   warmupTasks            task set
 *   topicCount             uvarint, then that many strings: topic dictionary, sorted
 *   partitionsByHost       host map  endpoint -> partitions of its active tasks (interactive queries)
 *   standbyPartitionsByHost host map  endpoint -> partitions of its standby tasks (stale reads)
 */

export const ASSIGNMENT_MAGIC = 0x41
export const ASSIGNMENT_VERSION = 1
const MIN_READER_VERSION = 1
const FLAG_FOLLOWUP = 0b1

/** Why an assignment carries no tasks. Stable numbers: they are on the wire. */
export const AssignmentErrorCode = {
  NONE: 0,
  /** The leader could not read this member's subscription userData (a Streamlane release it cannot decode). */
  INCOMPATIBLE_VERSION: 1,
  /** A source topic is missing from the cluster metadata. */
  SOURCE_TOPIC_MISSING: 2,
  /** Co-partitioned source topics have different partition counts. */
  COPARTITION_MISMATCH: 3,
  /** The leader failed to compute an assignment for another reason (see the leader's log). */
  ASSIGNMENT_FAILED: 4
} as const
export type AssignmentErrorCode = (typeof AssignmentErrorCode)[keyof typeof AssignmentErrorCode]

export function assignmentErrorName(code: number): string {
  for (const [name, value] of Object.entries(AssignmentErrorCode)) if (value === code) return name
  return `UNKNOWN(${code})`
}

export interface AssignmentInfo {
  version: number
  errorCode: number
  activeTasks: TaskIdText[]
  standbyTasks: TaskIdText[]
  warmupTasks: TaskIdText[]
  partitionsByHost: Map<string, TopicPartitions[]>
  standbyPartitionsByHost: Map<string, TopicPartitions[]>
  /**
   * This member holds warm-ups: it should rejoin as soon as each of them is within acceptableRecoveryLag, so the task
   * moves minutes before the probing rebalance would have found out.
   */
  followupRebalance: boolean
  /** Rejoin after this many ms (0 = as soon as revoked tasks are committed and closed); -1 = nothing scheduled. */
  nextRebalanceDelayMs: number
  acceptableRecoveryLag: bigint
}

export type AssignmentInfoInput = Partial<Omit<AssignmentInfo, 'version' | 'acceptableRecoveryLag'>> & {
  acceptableRecoveryLag?: bigint | number
}

export function encodeAssignmentInfo(info: AssignmentInfoInput): Buffer {
  const nextRebalanceDelayMs = info.nextRebalanceDelayMs ?? -1
  if (!Number.isSafeInteger(nextRebalanceDelayMs) || nextRebalanceDelayMs < -1) {
    throw new UserDataEncodeError('assignment', `nextRebalanceDelayMs ${nextRebalanceDelayMs} must be >= -1`)
  }
  const partitionsByHost = info.partitionsByHost ?? new Map()
  const standbyPartitionsByHost = info.standbyPartitionsByHost ?? new Map()
  const writer = new ByteWriter('assignment')
  writeHeader(writer, ASSIGNMENT_MAGIC, ASSIGNMENT_VERSION, MIN_READER_VERSION)
  writer.u8(info.errorCode ?? AssignmentErrorCode.NONE)
  writer.u8(info.followupRebalance ? FLAG_FOLLOWUP : 0)
  writer.varint(nextRebalanceDelayMs)
  writer.varlong(BigInt(info.acceptableRecoveryLag ?? 0))
  writeTaskSet(writer, info.activeTasks ?? [])
  writeTaskSet(writer, info.standbyTasks ?? [])
  writeTaskSet(writer, info.warmupTasks ?? [])
  const topics = topicDictionary(partitionsByHost, standbyPartitionsByHost)
  writer.uvarint(topics.length)
  for (const topic of topics) writer.string(topic)
  writeHostPartitions(writer, topics, partitionsByHost)
  writeHostPartitions(writer, topics, standbyPartitionsByHost)
  return writer.toBuffer()
}

export function decodeAssignmentInfo(data: Uint8Array): AssignmentInfo {
  const reader = new ByteReader('assignment', data)
  const header = readHeader(reader, 'assignment', ASSIGNMENT_MAGIC, ASSIGNMENT_VERSION)
  const errorCode = reader.u8()
  const flags = reader.u8()
  const nextRebalanceDelayMs = reader.varint()
  const acceptableRecoveryLag = reader.varlong()
  const activeTasks = readTaskSet(reader)
  const standbyTasks = readTaskSet(reader)
  const warmupTasks = readTaskSet(reader)
  const topicCount = reader.count(1)
  const topics: string[] = []
  for (let i = 0; i < topicCount; i++) topics.push(reader.string())
  const partitionsByHost = readHostPartitions(reader, topics)
  const standbyPartitionsByHost = readHostPartitions(reader, topics)
  finishRead(reader, header, ASSIGNMENT_VERSION)
  return {
    version: header.version,
    errorCode,
    activeTasks,
    standbyTasks,
    warmupTasks,
    partitionsByHost,
    standbyPartitionsByHost,
    followupRebalance: (flags & FLAG_FOLLOWUP) !== 0,
    nextRebalanceDelayMs,
    acceptableRecoveryLag
  }
}
