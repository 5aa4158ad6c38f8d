import { sortTaskIds, type TaskIdText } from '../task-id.ts'
import { ByteReader, ByteWriter } from './byte-codec.ts'
import { UserDataEncodeError } from './errors.ts'
import { finishRead, readHeader, readTaskSet, writeHeader, writeTaskSet } from './userdata-layout.ts'

/*
 * Subscription userData: what each member tells the group leader when it joins. Layout, version 1 (after the 3-byte
 * header of userdata-layout.ts, magic 0x53):
 *
 *   flags         u8        bit 0: draining (shutting down / scale-in: give it nothing). Unknown bits are ignored.
 *   uniqueField   u8        changes on every join so the coordinator sees new metadata and really rebalances
 *   generation    varint    generation in which ownedActive was assigned, -1 if unknown (resolves stale claims)
 *   processId     string    stable per state directory (a UUID); members of one process share its stores
 *   endpoint      string    host:port for interactive queries, "" for none
 *   ownedActive   task set  tasks this member runs as active right now
 *   ownedStandby  task set  tasks this member holds as standby or warm-up right now
 *   lagTasks      task set  tasks with a local store copy
 *   lags          varlong * |lagTasks|, same order: changelog end offset minus local checkpoint (0 = caught up)
 */

export const SUBSCRIPTION_MAGIC = 0x53
export const SUBSCRIPTION_VERSION = 1
const MIN_READER_VERSION = 1
const FLAG_DRAINING = 0b1

export interface SubscriptionInfo {
  /** Layout version the writer used (always the latest when encoding). */
  version: number
  processId: string
  /** `host:port` serving interactive queries, undefined when the member serves none. */
  endpoint: string | undefined
  generation: number
  ownedActive: TaskIdText[]
  ownedStandby: TaskIdText[]
  /** Per task with local state: how many changelog records the local copy is behind. Absent = no local state. */
  taskLags: Map<TaskIdText, bigint>
  draining: boolean
  uniqueField: number
}

/** What a member supplies; everything but processId has a default. */
export interface SubscriptionInfoInput {
  processId: string
  endpoint?: string | undefined
  generation?: number
  ownedActive?: Iterable<TaskIdText>
  ownedStandby?: Iterable<TaskIdText>
  taskLags?: ReadonlyMap<TaskIdText, bigint>
  draining?: boolean
  uniqueField?: number
}

export function encodeSubscriptionInfo(info: SubscriptionInfoInput): Buffer {
  if (typeof info.processId !== 'string' || info.processId.length === 0) {
    throw new UserDataEncodeError('subscription', 'processId must be a non-empty string')
  }
  const writer = new ByteWriter('subscription')
  writeHeader(writer, SUBSCRIPTION_MAGIC, SUBSCRIPTION_VERSION, MIN_READER_VERSION)
  writer.u8(info.draining ? FLAG_DRAINING : 0)
  writer.u8(info.uniqueField ?? 0)
  writer.varint(info.generation ?? -1)
  writer.string(info.processId)
  writer.string(info.endpoint ?? '')
  writeTaskSet(writer, info.ownedActive ?? [])
  writeTaskSet(writer, info.ownedStandby ?? [])
  const lagTasks = sortTaskIds(info.taskLags?.keys() ?? [])
  writeTaskSet(writer, lagTasks)
  for (const task of lagTasks) writer.varlong(info.taskLags!.get(task)!)
  return writer.toBuffer()
}

export function decodeSubscriptionInfo(data: Uint8Array): SubscriptionInfo {
  const reader = new ByteReader('subscription', data)
  const header = readHeader(reader, 'subscription', SUBSCRIPTION_MAGIC, SUBSCRIPTION_VERSION)
  const flags = reader.u8()
  const uniqueField = reader.u8()
  const generation = reader.varint()
  const processId = reader.string()
  if (processId.length === 0) throw reader.corrupt('empty processId')
  const endpoint = reader.string()
  const ownedActive = readTaskSet(reader)
  const ownedStandby = readTaskSet(reader)
  const lagTasks = readTaskSet(reader)
  const taskLags = new Map<TaskIdText, bigint>()
  for (const task of lagTasks) taskLags.set(task, reader.varlong())
  finishRead(reader, header, SUBSCRIPTION_VERSION)
  return {
    version: header.version,
    processId,
    endpoint: endpoint === '' ? undefined : endpoint,
    generation,
    ownedActive,
    ownedStandby,
    taskLags,
    draining: (flags & FLAG_DRAINING) !== 0,
    uniqueField
  }
}
