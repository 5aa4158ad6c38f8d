import { type Admin, FetchIsolationLevels, type fetchV17, ListOffsetTimestamps } from '@platformatic/kafka'
import { topicPartitionKey } from '../topic-partition.ts'
import { KafkaRequestError } from './errors.ts'
import { type AnyClient, getApi, getConnection } from './library.ts'
import type { IsolationLevel } from './types.ts'

/** Start offsets resolved with ListOffsets: by assign() at once, after seek() or an out-of-range reset lazily. */
export const OFFSET_EARLIEST = -2n
export const OFFSET_LATEST = -1n

/**
 * One Fetch request to one broker for the partitions it leads, with the library's encoder and decoder. No fetch
 * session (id 0, epoch -1 = "full fetch"): a reader lists all its partitions each time, which keeps broker state
 * out of the picture when partitions are paused, sought or reassigned all the time.
 */

export type FetchedPartition = fetchV17.FetchResponsePartition

export interface FetchTarget {
  topic: string
  /** The topic's UUID from metadata (Fetch v13+ addresses topics by id). */
  topicId: string
  partition: number
  fetchOffset: bigint
  leaderEpoch: number
}

export interface FetchLimits {
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  partitionMaxBytes: number
  isolation: IsolationLevel
}

type FetchApiArgs = [
  maxWaitMs: number,
  minBytes: number,
  maxBytes: number,
  isolationLevel: number,
  sessionId: number,
  sessionEpoch: number,
  topics: fetchV17.FetchRequestTopic[],
  forgottenTopicsData: fetchV17.FetchRequestForgottenTopicsData[],
  rackId: string
]

/**
 * Resolves with each partition's answer, keyed `topic\0partition`, including partitions that carry an error code
 * (the library throws for those; the answers of the others are still good). Rejects only when the request as a
 * whole failed (connection lost, timeout).
 */
export async function fetchPartitions(
  client: AnyClient,
  broker: { host: string; port: number },
  targets: FetchTarget[],
  limits: FetchLimits
): Promise<Map<string, FetchedPartition>> {
  const api = await getApi<FetchApiArgs, fetchV17.FetchResponse>(client, 'Fetch')
  const connection = await getConnection(client, broker)
  // Up to v12 topics are named; from v13 they are UUIDs. The library's own consumer makes the same switch.
  const byName = api.version <= 12
  const topics = new Map<string, fetchV17.FetchRequestTopic>()
  const nameOf = new Map<string, string>()
  for (const t of targets) {
    const id = byName ? t.topic : t.topicId
    nameOf.set(id, t.topic)
    let entry = topics.get(id)
    if (!entry) {
      entry = { topicId: id, partitions: [] }
      topics.set(id, entry)
    }
    entry.partitions.push({
      partition: t.partition,
      currentLeaderEpoch: t.leaderEpoch,
      fetchOffset: t.fetchOffset,
      lastFetchedEpoch: -1,
      partitionMaxBytes: limits.partitionMaxBytes
    })
  }
  const isolationLevel =
    limits.isolation === 'read_committed' ? FetchIsolationLevels.READ_COMMITTED : FetchIsolationLevels.READ_UNCOMMITTED
  let response: fetchV17.FetchResponse
  try {
    response = await api.async(
      connection,
      limits.maxWaitMs,
      limits.minBytes,
      limits.maxBytes,
      isolationLevel,
      0,
      -1,
      [...topics.values()],
      [],
      ''
    )
  } catch (error) {
    const partial = (error as { response?: fetchV17.FetchResponse }).response
    if (!partial?.responses) throw error
    response = partial
  }
  const result = new Map<string, FetchedPartition>()
  for (const topic of response.responses) {
    const name = nameOf.get(topic.topicId)
    if (name === undefined) continue
    for (const p of topic.partitions) result.set(topicPartitionKey(name, p.partitionIndex), p)
  }
  return result
}

/** Resolves OFFSET_EARLIEST / OFFSET_LATEST per partition (the last stable offset under read_committed). */
export async function listStartOffsets(
  client: Admin,
  isolation: IsolationLevel,
  requests: { topic: string; partition: number; at: bigint }[]
): Promise<Map<string, bigint>> {
  const topics = new Map<string, { partitionIndex: number; timestamp: bigint }[]>()
  for (const { topic, partition, at } of requests) {
    if (at !== OFFSET_EARLIEST && at !== OFFSET_LATEST) {
      throw new KafkaRequestError(
        'assign',
        `offset ${at} of ${topic}-${partition} is neither >= 0 nor OFFSET_EARLIEST / OFFSET_LATEST`
      )
    }
    const list = topics.get(topic) ?? []
    list.push({
      partitionIndex: partition,
      timestamp: at === OFFSET_EARLIEST ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST
    })
    topics.set(topic, list)
  }
  const listed = await client.listOffsets({
    isolationLevel:
      isolation === 'read_committed' ? FetchIsolationLevels.READ_COMMITTED : FetchIsolationLevels.READ_UNCOMMITTED,
    topics: [...topics].map(([name, partitions]) => ({ name, partitions }))
  })
  const offsets = new Map<string, bigint>()
  for (const t of listed) {
    for (const p of t.partitions) if (p.offset >= 0n) offsets.set(topicPartitionKey(t.name, p.partitionIndex), p.offset)
  }
  return offsets
}
