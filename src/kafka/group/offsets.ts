import { protocolErrorsCodesById } from '@platformatic/kafka'
import { StreamlaneError } from '../../errors.ts'
import { backoffMs, pause } from '../deadline.ts'
import { OffsetCommitRejectedError } from '../errors.ts'
import type { GroupCoordinator } from './coordinator.ts'
import { GroupClosedError, GroupOffsetError, GroupTimeoutError, RebalanceInProgressError } from './errors.ts'
import { describeKafkaError, kafkaErrorName } from './kafka-error.ts'
import type { CommittedOffset, OffsetToCommit, TopicPartitions } from './types.ts'

/**
 * OffsetCommit and OffsetFetch for a classic group. A commit carries generation, member id and group instance id,
 * so the coordinator refuses it once the partitions may have moved: that refusal is an `OffsetCommitRejectedError`
 * (shared with TxnOffsetCommit), the signal that must never be retried with a newer generation for the same offsets.
 */

export interface CommitGeneration {
  generationId: number
  memberId: string
  groupInstanceId: string | null
}

interface ResponseTopics {
  topics?: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[]
  groups?: { topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] }[]
}

/** `orders-3 (OFFSET_METADATA_TOO_LARGE)` for every partition a commit / fetch response reports an error for. */
function failedPartitions(error: unknown): string {
  const response = (error as { response?: ResponseTopics }).response
  const topics = response?.topics ?? response?.groups?.flatMap((g) => g.topics) ?? []
  const failed: string[] = []
  for (const topic of topics) {
    for (const p of topic.partitions) {
      if (p.errorCode !== 0)
        failed.push(`${topic.name}-${p.partitionIndex} (${protocolErrorsCodesById[p.errorCode] ?? p.errorCode})`)
    }
  }
  return failed.length > 0 ? failed.join(', ') : describeKafkaError(error)
}

export async function commitGroupOffsets(
  coordinator: GroupCoordinator,
  generation: CommitGeneration,
  offsets: readonly OffsetToCommit[],
  deadline: number,
  signal: AbortSignal
): Promise<void> {
  if (offsets.length === 0) return
  const byTopic = new Map<string, OffsetToCommit[]>()
  for (const offset of offsets) {
    if (offset.offset < 0n) {
      throw new GroupOffsetError(
        coordinator.groupId,
        `cannot commit negative offset ${offset.offset} for ${offset.topic}-${offset.partition}`
      )
    }
    const list = byTopic.get(offset.topic) ?? []
    list.push(offset)
    byTopic.set(offset.topic, list)
  }
  const topics = [...byTopic].map(([name, list]) => ({
    name,
    partitions: list.map((o) => ({
      partitionIndex: o.partition,
      committedOffset: o.offset,
      committedLeaderEpoch: o.leaderEpoch ?? -1,
      committedMetadata: o.metadata ?? null
    }))
  }))
  const { groupId } = coordinator
  try {
    await coordinator.request(
      'OffsetCommit',
      'control',
      (connection, protocol) =>
        protocol.offsetCommit.async(
          connection,
          groupId,
          generation.generationId,
          generation.memberId,
          generation.groupInstanceId,
          topics
        ),
      deadline,
      signal
    )
  } catch (error) {
    const name = kafkaErrorName(error)
    if (name === 'ILLEGAL_GENERATION' || name === 'UNKNOWN_MEMBER_ID' || name === 'FENCED_INSTANCE_ID') {
      throw new OffsetCommitRejectedError(groupId, generation.generationId, generation.memberId, name, { cause: error })
    }
    if (name === 'REBALANCE_IN_PROGRESS') throw new RebalanceInProgressError(groupId, 'offset commit', { cause: error })
    if (error instanceof StreamlaneError) throw error
    throw new GroupOffsetError(groupId, `offset commit failed for ${failedPartitions(error)}`, { cause: error })
  }
}

/**
 * Committed offsets of the given partitions (-1n where the group has none). With `requireStable` the broker
 * refuses while a transaction holds pending offsets for a partition (UNSTABLE_OFFSET_COMMIT); we wait that out,
 * which is what exactly-once needs before it starts reading.
 */
export async function fetchGroupOffsets(
  coordinator: GroupCoordinator,
  partitions: readonly TopicPartitions[],
  requireStable: boolean,
  deadline: number,
  signal: AbortSignal
): Promise<CommittedOffset[]> {
  const { groupId } = coordinator
  const topics = partitions.map(({ topic, partitions }) => ({ name: topic, partitionIndexes: [...partitions] }))
  if (topics.length === 0) return []
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await coordinator.request(
        'OffsetFetch',
        'control',
        (connection, protocol) =>
          protocol.offsetFetch.async(connection, [{ groupId, memberId: null, memberEpoch: -1, topics }], requireStable),
        deadline,
        signal
      )
      const result: CommittedOffset[] = []
      for (const group of response.groups) {
        for (const topic of group.topics) {
          for (const p of topic.partitions) {
            result.push({
              topic: topic.name,
              partition: p.partitionIndex,
              offset: p.committedOffset,
              metadata: p.metadata ?? null,
              leaderEpoch: p.committedLeaderEpoch
            })
          }
        }
      }
      return result
    } catch (error) {
      if (kafkaErrorName(error) !== 'UNSTABLE_OFFSET_COMMIT') {
        if (error instanceof StreamlaneError) throw error
        throw new GroupOffsetError(groupId, `offset fetch failed for ${failedPartitions(error)}`, { cause: error })
      }
      const delay = backoffMs(attempt, 100, 1_000)
      if (Date.now() + delay > deadline) {
        throw new GroupTimeoutError(
          groupId,
          'offset fetch: a transaction kept offsets pending (UNSTABLE_OFFSET_COMMIT) past the deadline',
          {
            cause: error
          }
        )
      }
      await pause(delay, signal)
      if (signal.aborted) throw new GroupClosedError(groupId, 'offset fetch', { cause: error })
    }
  }
}
