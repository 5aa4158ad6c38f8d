import {
  type addOffsetsToTxnV4,
  type ClusterMetadata,
  type Connection,
  FindCoordinatorKeyTypes,
  type findCoordinatorV6,
  type txnOffsetCommitV4
} from '@platformatic/kafka'
import { backoffMs, pause } from './deadline.ts'
import { KafkaRequestError, KafkaTimeoutError, translateKafkaError } from './errors.ts'
import { type AnyClient, callApi, getApi, getConnection } from './library.ts'
import type { TopicPartitionOffset } from './types.ts'

/**
 * Input offsets committed inside a transaction, exactly-once v2 style: AddOffsetsToTxn on the transaction
 * coordinator, then TxnOffsetCommit on the group coordinator carrying the group's generation and member id, so a
 * member that lost its partitions in a rebalance cannot commit for them (the broker answers ILLEGAL_GENERATION).
 *
 * Done on the raw protocol APIs because the library's transaction takes offsets only from its own consumer's
 * messages, one partition per request, while Streamlane's group membership is its own.
 */

export interface TransactionOffsets {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId?: string
  /** The next offset to read per partition (last processed + 1), as Kafka's consumers commit, with its metadata. */
  offsets: (TopicPartitionOffset & { metadata?: string | null })[]
}

export interface ProducerIdentity {
  transactionalId: string
  producerId: bigint
  producerEpoch: number
}

const RETRIABLE = new Set([
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'CONCURRENT_TRANSACTIONS',
  'REQUEST_TIMED_OUT',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'NETWORK_EXCEPTION'
])

/**
 * Coordinators found earlier, by key type and key. A producer commits a transaction every commit interval (100 ms
 * by default under exactly-once) to the same two coordinators: asking FindCoordinator before each request cost two
 * extra round trips per commit. A coordinator is forgotten when a request to it fails, and found again on the retry.
 */
export class CoordinatorCache {
  readonly #found = new Map<string, { host: string; port: number }>()

  get(keyType: number, key: string): { host: string; port: number } | undefined {
    return this.#found.get(`${keyType}:${key}`)
  }

  set(keyType: number, key: string, broker: { host: string; port: number }): void {
    this.#found.set(`${keyType}:${key}`, broker)
  }

  forget(keyType: number, key: string): void {
    this.#found.delete(`${keyType}:${key}`)
  }
}

/** The coordinator's connection: the cached one, or found (and cached) through FindCoordinator. */
async function coordinatorConnection(client: AnyClient, keyType: number, key: string, cache: CoordinatorCache) {
  const known = cache.get(keyType, key)
  if (known !== undefined) return getConnection(client, known)
  const broker = await findCoordinator(client, keyType, key, await client.metadata({ topics: [] }))
  cache.set(keyType, key, broker)
  return getConnection(client, broker)
}

/** Runs `work` on the coordinator of `key`; a failure makes the next attempt look the coordinator up again. */
async function onCoordinator<T>(
  client: AnyClient,
  cache: CoordinatorCache,
  keyType: number,
  key: string,
  work: (connection: Connection) => Promise<T>
): Promise<T> {
  try {
    return await work(await coordinatorConnection(client, keyType, key, cache))
  } catch (error) {
    cache.forget(keyType, key)
    throw error
  }
}

async function findCoordinator(client: AnyClient, keyType: number, key: string, metadata: ClusterMetadata) {
  const bootstrap = metadata.brokers.values().next().value
  if (!bootstrap) throw new KafkaRequestError('findCoordinator', 'the cluster metadata lists no broker')
  const api = await getApi<[number, string[]], findCoordinatorV6.FindCoordinatorResponse>(client, 'FindCoordinator')
  if (api.version < 4)
    throw new KafkaRequestError(
      'findCoordinator',
      `the broker only supports FindCoordinator v${api.version}; v4+ (Kafka 2.8+) is required`
    )
  const response = await callApi(api, await getConnection(client, bootstrap), keyType, [key])
  const found = response.coordinators.find((c) => c.key === key)
  if (!found) throw new KafkaRequestError('findCoordinator', `no coordinator returned for ${key}`)
  return { host: found.host, port: found.port }
}

/** Runs one step, retrying transient coordinator errors with backoff until `deadline`. */
async function withRetries<T>(
  step: string,
  deadline: number,
  retryDelayMs: number,
  context: { transactionalId: string; groupId: string; generationId: number; memberId: string; topics: string[] },
  work: () => Promise<T>
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      const translated = translateKafkaError(error, { operation: step, ...context })
      const code = 'kafkaCode' in translated ? (translated.kafkaCode as string | undefined) : undefined
      const transient =
        (code !== undefined && RETRIABLE.has(code)) || translated.code === 'STREAMLANE_KAFKA_BROKER_UNREACHABLE'
      const wait = backoffMs(attempt, Math.max(retryDelayMs, 20), 1_000)
      if (!transient) throw translated
      if (Date.now() + wait >= deadline) {
        throw new KafkaTimeoutError(step, Math.max(0, deadline - Date.now()), translated.message, { cause: translated })
      }
      await pause(wait)
    }
  }
}

/**
 * AddOffsetsToTxn, then TxnOffsetCommit. `beforeWrite` runs right before each of the two requests goes out (after the
 * coordinator lookups) and may throw to stop it: the producer's hold while its owner may have lost its tasks.
 */
export async function sendTransactionOffsets(
  client: AnyClient,
  producer: ProducerIdentity,
  request: TransactionOffsets,
  deadline: number,
  retryDelayMs: number,
  beforeWrite: () => void = () => {},
  coordinators: CoordinatorCache = new CoordinatorCache()
): Promise<void> {
  const { transactionalId, producerId, producerEpoch } = producer
  const { groupId, generationId, memberId } = request
  const byTopic = new Map<string, txnOffsetCommitV4.TxnOffsetCommitRequestPartition[]>()
  for (const { topic, partition, offset, metadata } of request.offsets) {
    const list = byTopic.get(topic) ?? []
    list.push({
      partitionIndex: partition,
      committedOffset: offset,
      committedLeaderEpoch: -1,
      committedMetadata: metadata ?? null
    })
    byTopic.set(topic, list)
  }
  const context = { transactionalId, groupId, generationId, memberId, topics: [...byTopic.keys()] }

  await withRetries(`AddOffsetsToTxn(${transactionalId}, ${groupId})`, deadline, retryDelayMs, context, () =>
    onCoordinator(client, coordinators, FindCoordinatorKeyTypes.TRANSACTION, transactionalId, async (connection) => {
      const api = await getApi<[string, bigint, number, string], addOffsetsToTxnV4.AddOffsetsToTxnResponse>(
        client,
        'AddOffsetsToTxn'
      )
      beforeWrite()
      await callApi(api, connection, transactionalId, producerId, producerEpoch, groupId)
    })
  )
  if (byTopic.size === 0) return

  await withRetries(`TxnOffsetCommit(${groupId})`, deadline, retryDelayMs, context, () =>
    onCoordinator(client, coordinators, FindCoordinatorKeyTypes.GROUP, groupId, async (connection) => {
      const api = await getApi<
        [
          string,
          string,
          bigint,
          number,
          number,
          string,
          string | null,
          txnOffsetCommitV4.TxnOffsetCommitRequestTopic[]
        ],
        txnOffsetCommitV4.TxnOffsetCommitResponse
      >(client, 'TxnOffsetCommit')
      const topics = [...byTopic].map(([name, partitions]) => ({ name, partitions }))
      beforeWrite()
      await callApi(
        api,
        connection,
        transactionalId,
        groupId,
        producerId,
        producerEpoch,
        generationId,
        memberId,
        request.groupInstanceId ?? null,
        topics
      )
    })
  )
}
