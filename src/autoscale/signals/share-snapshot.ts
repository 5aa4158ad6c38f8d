import { describeShareGroup, describeShareGroupBacklog, type KafkaConnectionOptions } from '../../kafka/index.ts'
import type { SignalAdmin } from './admin-port.ts'
import {
  KafkaUnavailableError,
  NoTopicsError,
  ScalerInputError,
  UnknownGroupError,
  UnknownTopicError
} from './errors.ts'
import type { SnapshotTarget } from './snapshot.ts'
import type { GroupSnapshot, MemberSignal, PartitionSignal } from './types.ts'

/**
 * One read of a share group (KIP-932) for the scaler, in the same shape as a consumer group's snapshot so the rate
 * tracker and the policy read it unchanged:
 *
 * - the lag of a partition is the share group's backlog there (DescribeShareGroupOffsets): records not yet
 *   acknowledged, in flight ones included;
 * - its "committed offset" is `end - backlog`, the position the partition would have if the acknowledged records were
 *   the first ones. It is not an offset a consumer could seek to (a share group acknowledges out of order), but its
 *   growth is the number of records acknowledged, so the commit rate the tracker derives from it is the group's
 *   processing rate;
 * - a share partition the group has not initialised yet (never fetched, or the group is new) counts from the log
 *   start, as a consumer group without commits does: a group at zero with a backlog is woken up;
 * - members and their assignments come from ShareGroupDescribe. Every member may fetch from every partition, so the
 *   snapshot says `groupType: 'share'` and the policy caps replicas by its maximum, not by the partition count.
 */
export async function readShareGroupSnapshot(
  admin: SignalAdmin,
  target: SnapshotTarget,
  brokers: readonly string[],
  now: () => number = Date.now
): Promise<GroupSnapshot> {
  const { groupId } = target
  if (!admin.describeShareGroup || !admin.describeShareGroupBacklog) {
    throw new ScalerInputError('groupType', 'this scaler cannot measure share groups (its admin lacks the share APIs)')
  }
  const explicitTopics = [...new Set((target.topics ?? []).filter(Boolean))].sort()
  let described: Awaited<ReturnType<NonNullable<SignalAdmin['describeShareGroup']>>>
  let known: { topic: string; partition: number; lag: bigint }[] = []
  let groupKnown = false
  try {
    described = await admin.describeShareGroup(groupId)
    // The coordinator answers nothing about a group it does not know: its backlog is not asked for.
    groupKnown = !/^(unknown|dead|)$/i.test(described.state)
    // Without topics: every topic the group holds share state for (the broker lists them).
    if (groupKnown && explicitTopics.length === 0) known = await admin.describeShareGroupBacklog(groupId)
  } catch (error) {
    throw new KafkaUnavailableError(groupId, brokers, error)
  }
  const members: MemberSignal[] = described.members.map((m) => ({
    memberId: m.memberId,
    clientId: m.clientId,
    host: m.clientHost,
    assignment: m.assignment.map((a) => ({ topic: a.topic, partitions: [...a.partitions].sort((x, y) => x - y) }))
  }))
  const unknownGroup = members.length === 0 && !groupKnown
  if (unknownGroup && !(target.allowUnknownGroup && explicitTopics.length > 0)) {
    throw new UnknownGroupError(groupId, brokers)
  }
  const topics =
    explicitTopics.length > 0
      ? explicitTopics
      : [...new Set([...known.map((k) => k.topic), ...members.flatMap((m) => m.assignment.map((a) => a.topic))])].sort()
  if (topics.length === 0) throw new NoTopicsError(groupId)

  let partitions: PartitionSignal[]
  try {
    const described = await admin.describeTopics(topics)
    const byTopic = new Map(described.map((t) => [t.name, t.partitions.map((p) => p.partition).sort((a, b) => a - b)]))
    const missing = topics.filter((t) => (byTopic.get(t)?.length ?? 0) === 0)
    if (missing.length > 0) throw new UnknownTopicError(missing, groupId, brokers)
    const requests = topics.map((topic) => ({ topic, partitions: byTopic.get(topic)! }))
    // The backlog before the end offsets: records appended in between can only make the backlog look smaller by them.
    const backlog = groupKnown ? await admin.describeShareGroupBacklog(groupId, requests) : []
    const earliest = await admin.listOffsets(requests, 'earliest')
    const latest = await admin.listOffsets(requests, 'latest')
    const lagOf = new Map(backlog.map((b) => [`${b.topic}\0${b.partition}`, b.lag]))
    partitions = requests.flatMap(({ topic, partitions: numbers }) =>
      numbers.map((partition) => {
        const logStart = earliest.get(topic)?.get(partition)
        const end = latest.get(topic)?.get(partition)
        if (logStart === undefined || end === undefined) {
          throw new Error(`no offsets returned for ${topic}-${partition} (leader unavailable?)`)
        }
        return sharePartitionSignal(topic, partition, logStart, end, lagOf.get(`${topic}\0${partition}`))
      })
    )
  } catch (error) {
    if (error instanceof UnknownTopicError) throw error
    throw new KafkaUnavailableError(groupId, brokers, error)
  }
  return {
    groupId,
    at: now(),
    state: described.state,
    topics,
    partitions,
    members,
    tasks: { count: partitions.length, basis: 'partitions' },
    totalLag: partitions.reduce((sum, p) => sum + p.lag, 0),
    noCommittedOffsets: partitions.every((p) => p.committedOffset === null),
    unknownGroup,
    groupType: 'share'
  }
}

/** One partition's signal from its share backlog (see readShareGroupSnapshot); pure. */
export function sharePartitionSignal(
  topic: string,
  partition: number,
  logStart: bigint,
  end: bigint,
  backlog: bigint | undefined
): PartitionSignal {
  const base = { topic, partition, logStartOffset: Number(logStart), endOffset: Number(end) }
  if (backlog === undefined || backlog < 0n) {
    return { ...base, committedOffset: null, lag: Math.max(0, Number(end - logStart)), lagBasis: 'no-commit' }
  }
  // The broker may count a record appended after it read the backlog but before we read the end: never above the log.
  const lag = Math.min(Number(backlog), Math.max(0, Number(end - logStart)))
  return { ...base, committedOffset: Number(end) - lag, lag, lagBasis: 'committed' }
}

/** Adds the share-group calls to an admin, over the same brokers and security (for readShareGroupSnapshot). */
export function withShareGroupApis<A extends SignalAdmin>(admin: A, connection: KafkaConnectionOptions): A {
  return Object.assign(admin, {
    describeShareGroup: (groupId: string) => describeShareGroup(connection, groupId),
    describeShareGroupBacklog: (groupId: string, topics?: { topic: string; partitions: number[] }[]) =>
      describeShareGroupBacklog(connection, groupId, topics)
  })
}
