import {
  type addOffsetsToTxnV4,
  type ClusterMetadata,
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
  /** The next offset to read per partition (last processed + 1), as Kafka's consumers commit. */
  offsets: TopicPartitionOffset[]
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
  return getConnection(client, { host: found.host, port: found.port })
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
  beforeWrite: () => void = () => {}
): Promise<void> {
  const { transactionalId, producerId, producerEpoch } = producer
  const { groupId, generationId, memberId } = request
  const byTopic = new Map<string, { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number }[]>()
  for (const { topic, partition, offset } of request.offsets) {
    const list = byTopic.get(topic) ?? []
    list.push({ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1 })
    byTopic.set(topic, list)
  }
  const context = { transactionalId, groupId, generationId, memberId, topics: [...byTopic.keys()] }

  await withRetries(`AddOffsetsToTxn(${transactionalId}, ${groupId})`, deadline, retryDelayMs, context, async () => {
    const metadata = await client.metadata({ topics: [] })
    const connection = await findCoordinator(client, FindCoordinatorKeyTypes.TRANSACTION, transactionalId, metadata)
    const api = await getApi<[string, bigint, number, string], addOffsetsToTxnV4.AddOffsetsToTxnResponse>(
      client,
      'AddOffsetsToTxn'
    )
    beforeWrite()
    await callApi(api, connection, transactionalId, producerId, producerEpoch, groupId)
  })
  if (byTopic.size === 0) return

  await withRetries(`TxnOffsetCommit(${groupId})`, deadline, retryDelayMs, context, async () => {
    const metadata = await client.metadata({ topics: [] })
    const connection = await findCoordinator(client, FindCoordinatorKeyTypes.GROUP, groupId, metadata)
    const api = await getApi<
      [string, string, bigint, number, number, string, string | null, txnOffsetCommitV4.TxnOffsetCommitRequestTopic[]],
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
}
