import { isInternalInputTopicOf } from '../../internal-topic-names.ts'
import { UnknownTopicError as KafkaUnknownTopicError } from '../../kafka/index.ts'
import { topicPartitionKey } from '../../topic-partition.ts'
import type { SignalAdmin } from './admin-port.ts'
import { KafkaUnavailableError, NoTopicsError, SignalError, UnknownGroupError, UnknownTopicError } from './errors.ts'
import { taskCountOf, tasksFromMembers } from './tasks.ts'
import type { GroupSnapshot, MemberSignal, PartitionSignal } from './types.ts'

export interface SnapshotTarget {
  groupId: string
  /**
   * Topics to measure; empty or absent = every topic the group has committed on or is assigned. The group's own
   * internal inputs that it committed on or is assigned (repartition topics, a foreign-key join's subscription and
   * response topics) are measured in both cases.
   */
  topics?: string[]
  /**
   * Let a group the coordinator has never seen through as "no committed offsets" (lag from the log start), so an app
   * scaled to zero before its first run can still be woken. Requires explicit topics. Off by default: a typo in the
   * group name must be an error, not a permanently idle app.
   */
  allowUnknownGroup?: boolean
}

/** States in which the coordinator holds nothing for the group. */
const GONE_STATES = new Set(['dead', 'unknown', ''])

/**
 * Reads one consistent-enough picture of a group: membership, committed offsets, log-start and end offsets. The
 * committed offsets are read before the end offsets so a commit racing the read can only make lag look larger by
 * the in-flight records, never negative.
 */
export async function readGroupSnapshot(
  admin: SignalAdmin,
  target: SnapshotTarget,
  brokers: readonly string[],
  now: () => number = Date.now
): Promise<GroupSnapshot> {
  const { groupId } = target
  const explicitTopics = [...new Set((target.topics ?? []).filter(Boolean))]
  try {
    const [described] = await describeGroup(admin, groupId)
    // Every topic the group committed on, also with explicit topics: its internal inputs are measured with them.
    const committed = await admin.fetchGroupOffsets(groupId)
    const members: MemberSignal[] = (described?.members ?? []).map((m) => ({
      memberId: m.memberId,
      ...(m.groupInstanceId ? { groupInstanceId: m.groupInstanceId } : {}),
      clientId: m.clientId,
      host: m.host,
      assignment: m.assignment.map((a) => ({ topic: a.topic, partitions: [...a.partitions].sort((x, y) => x - y) }))
    }))
    const state = described?.state ?? 'Dead'
    const validCommits = committed.filter((c) => c.offset >= 0n)
    const unknownGroup = members.length === 0 && validCommits.length === 0 && GONE_STATES.has(state.toLowerCase())
    if (unknownGroup && !(target.allowUnknownGroup && explicitTopics.length > 0)) {
      throw new UnknownGroupError(groupId, brokers)
    }

    const groupTopics = new Set([
      ...validCommits.map((c) => c.topic),
      ...members.flatMap((m) => m.assignment.map((a) => a.topic))
    ])
    // A Streamlane app's internal inputs (repartition topics, foreign-key join subscription and response topics) are
    // inputs of the same group: their tasks hold work, their lag is backlog, and the instances' true rate counts the
    // records read from them, so the arrivals must count them too.
    const topics =
      explicitTopics.length > 0
        ? [
            ...explicitTopics,
            ...[...groupTopics].filter((t) => isInternalInputTopicOf(groupId, t) && !explicitTopics.includes(t))
          ]
        : [...groupTopics]
    if (topics.length === 0) throw new NoTopicsError(groupId)
    topics.sort()

    const partitionsByTopic = await describePartitions(admin, topics, groupId, brokers)
    const requests = topics.map((topic) => ({ topic, partitions: partitionsByTopic.get(topic)! }))
    // Earliest first for the same reason as committed-before-end: a retention deletion racing the read only shrinks
    // the counted lag by what was deleted in between.
    const earliest = await admin.listOffsets(requests, 'earliest')
    const latest = await admin.listOffsets(requests, 'latest')
    const at = now()

    const commitOf = new Map(validCommits.map((c) => [topicPartitionKey(c.topic, c.partition), c.offset]))
    const partitions: PartitionSignal[] = []
    for (const { topic, partitions: numbers } of requests) {
      for (const partition of numbers) {
        const logStart = earliest.get(topic)?.get(partition)
        const end = latest.get(topic)?.get(partition)
        if (logStart === undefined || end === undefined) {
          throw new KafkaUnavailableError(
            groupId,
            brokers,
            new Error(`no offsets returned for ${topic}-${partition} (leader unavailable?)`)
          )
        }
        partitions.push(
          partitionSignal(topic, partition, logStart, end, commitOf.get(topicPartitionKey(topic, partition)))
        )
      }
    }
    return {
      groupId,
      at,
      state,
      topics,
      partitions,
      members,
      tasks: taskCountOf(tasksFromMembers(described?.protocol ?? '', described?.members ?? []), partitions.length),
      totalLag: partitions.reduce((sum, p) => sum + p.lag, 0),
      noCommittedOffsets: partitions.every((p) => p.committedOffset === null),
      unknownGroup
    }
  } catch (error) {
    throw classify(error, groupId, explicitTopics, brokers)
  }
}

/** Lag for one partition, with the basis spelled out (see LagBasis). */
export function partitionSignal(
  topic: string,
  partition: number,
  logStart: bigint,
  end: bigint,
  committed: bigint | undefined
): PartitionSignal {
  const base = { topic, partition, logStartOffset: Number(logStart), endOffset: Number(end) }
  if (committed === undefined) {
    return { ...base, committedOffset: null, lag: Math.max(0, Number(end - logStart)), lagBasis: 'no-commit' }
  }
  if (committed < logStart) {
    return {
      ...base,
      committedOffset: Number(committed),
      lag: Math.max(0, Number(end - logStart)),
      lagBasis: 'committed-before-log-start'
    }
  }
  // A commit past the end only happens after a truncation (unclean leader election); there is nothing to read.
  return {
    ...base,
    committedOffset: Number(committed),
    lag: Math.max(0, Number(end - committed)),
    lagBasis: 'committed'
  }
}

async function describeGroup(admin: SignalAdmin, groupId: string) {
  try {
    return await admin.describeGroups([groupId])
  } catch (error) {
    // Newer DescribeGroups versions answer GROUP_ID_NOT_FOUND instead of state Dead; both mean "nothing here".
    if (/GROUP_ID_NOT_FOUND|group.*not.*found/i.test(errorText(error))) return []
    throw error
  }
}

async function describePartitions(
  admin: SignalAdmin,
  topics: string[],
  groupId: string,
  brokers: readonly string[]
): Promise<Map<string, number[]>> {
  const described = await admin.describeTopics(topics)
  const byTopic = new Map(described.map((t) => [t.name, t.partitions.map((p) => p.partition).sort((a, b) => a - b)]))
  const missing = topics.filter((t) => (byTopic.get(t)?.length ?? 0) === 0)
  if (missing.length > 0) throw new UnknownTopicError(missing, groupId, brokers)
  return byTopic
}

function classify(error: unknown, groupId: string, topics: string[], brokers: readonly string[]): SignalError {
  if (error instanceof SignalError) return error
  if (error instanceof KafkaUnknownTopicError)
    return new UnknownTopicError([error.topic], groupId, brokers, { cause: error })
  const text = errorText(error)
  if (/UnknownTopic|UNKNOWN_TOPIC/i.test(text)) {
    const named = (error as { topics?: unknown; topic?: unknown }).topics ?? (error as { topic?: unknown }).topic
    const list = Array.isArray(named) ? named.map(String) : typeof named === 'string' ? [named] : topics
    return new UnknownTopicError(list.length > 0 ? list : topics, groupId, brokers, { cause: error })
  }
  return new KafkaUnavailableError(groupId, brokers, error)
}

/** Name, code and message of an error and its causes, for recognising a kind without importing the client's classes. */
function errorText(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown }
    parts.push(String(e.name ?? ''), String(e.code ?? ''), String(e.message ?? ''))
    current = e.cause
  }
  return parts.join(' ')
}
