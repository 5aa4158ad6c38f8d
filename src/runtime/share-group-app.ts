import {
  alterShareGroupConfig,
  createProducer,
  createShareConsumer,
  type KafkaProducer,
  type KafkaShareConsumer,
  type ProducerRecord,
  type RecordHeader,
  type ShareRecord
} from '../kafka/index.ts'
import { createLogger, type Logger } from '../observe/index.ts'
import {
  ERROR_HEADERS,
  type ErrorHandlerConfig,
  type ProducedRecord,
  planTopology,
  type Topology,
  TopologyError,
  type TopologyPlan
} from '../topology/index.ts'
import type { StreamsConfig } from './config.ts'
import { kafkaConnectionOf } from './kafka-connection.ts'
import { ShareLane } from './share-lane.ts'

/**
 * A Streamlane app on a share group (KIP-932) instead of a consumer group, for slow, unordered, stateless work:
 * every instance fetches from every partition, the broker hands each record to one instance under an acquisition
 * lock, and the app acknowledges each record once processed: accept after its outputs are written (at-least-once),
 * release after a failure so it is redelivered, reject (and dead-letter) once it has failed `maxDeliveries` times.
 * Scaling in or out moves no partitions and replays nothing: records of a killed instance come back after the lock.
 */

export interface ShareGroupAppOptions {
  errorHandlers?: ErrorHandlerConfig | undefined
  logger?: Logger
}

export interface ShareGroupCounters {
  /** Records taken from the group (redeliveries included). */
  delivered: number
  accepted: number
  released: number
  rejected: number
  deadLettered: number
}

/** Refuses what a share group cannot run: state, repartitioning, patterns, exactly-once. Pure. */
export function checkShareGroupTopology(plan: TopologyPlan, config: StreamsConfig): void {
  const problems: string[] = []
  if (config.processingGuarantee === 'exactly_once_v2') {
    problems.push('processingGuarantee exactly_once_v2 (share groups have no transactional offsets)')
  }
  if (plan.storeBuilders.size > 0) problems.push(`state stores (${[...plan.storeBuilders.keys()].join(', ')})`)
  if (plan.globalStores.size > 0) problems.push(`global tables (${[...plan.globalStores.keys()].join(', ')})`)
  if (plan.subtopologies.length !== 1) problems.push(`${plan.subtopologies.length} sub-topologies (repartitioning)`)
  const sub = plan.subtopologies[0]
  if (sub && sub.sourcePatterns.length > 0) problems.push('a pattern source (name the topics)')
  if (problems.length > 0) {
    throw new TopologyError(
      `app ${config.applicationId} is configured with shareGroup but its topology needs ordered or stateful processing: ${problems.join('; ')}. Share groups run stateless topologies only: remove shareGroup to use a consumer group.`
    )
  }
}

export class ShareGroupApp {
  readonly plan: TopologyPlan
  readonly config: StreamsConfig
  readonly counters: ShareGroupCounters = { delivered: 0, accepted: 0, released: 0, rejected: 0, deadLettered: 0 }
  readonly #settings: NonNullable<StreamsConfig['shareGroup']>
  readonly #options: ShareGroupAppOptions
  readonly #log: Logger
  readonly #errorListeners = new Set<(error: Error) => void>()
  readonly #idle: ShareLane[] = []
  readonly #lanes: ShareLane[] = []
  readonly #inFlight = new Set<Promise<void>>()
  #consumer: KafkaShareConsumer | undefined
  #producer: KafkaProducer | undefined
  #loop: Promise<void> | undefined
  #stopping = false
  #error: Error | undefined

  constructor(topology: Topology, config: StreamsConfig, options: ShareGroupAppOptions = {}) {
    if (!config.shareGroup) throw new TopologyError('ShareGroupApp needs the shareGroup configuration')
    this.config = config
    this.#settings = config.shareGroup
    this.#options = options
    this.plan = planTopology(topology, config.applicationId)
    checkShareGroupTopology(this.plan, config)
    this.#log = options.logger ?? createLogger({ app: config.applicationId, client: config.clientId })
  }

  get error(): Error | undefined {
    return this.#error
  }

  /** The share group's member id of this instance (after start). */
  get memberId(): string | undefined {
    return this.#consumer?.memberId
  }

  /** Partitions the share group assigns to this instance (shared with the other instances). */
  assignment(): { topic: string; partition: number }[] {
    return this.#consumer?.assignment() ?? []
  }

  onError(listener: (error: Error) => void): () => void {
    this.#errorListeners.add(listener)
    return () => this.#errorListeners.delete(listener)
  }

  async start(): Promise<void> {
    const connection = kafkaConnectionOf(this.config)
    const { autoOffsetReset, recordLockDurationMs, concurrency } = this.#settings
    if (autoOffsetReset !== undefined || recordLockDurationMs !== undefined) {
      await alterShareGroupConfig(connection, this.config.applicationId, { autoOffsetReset, recordLockDurationMs })
    }
    this.#producer = createProducer({
      ...connection,
      idempotent: true,
      deliveryTimeoutMs: this.config.deliveryTimeoutMs
    })
    this.#consumer = createShareConsumer({
      ...connection,
      groupId: this.config.applicationId,
      topics: [...this.plan.subtopologies[0]!.sourceTopics],
      acknowledgementMode: 'explicit',
      maxRecords: concurrency,
      onAcknowledgementError: (failure) =>
        this.#log.warn(failure, 'the broker refused an acknowledgement (lock expired?): the record is redelivered')
    })
    for (let i = 0; i < concurrency; i++) {
      const lane = new ShareLane(this.plan, this.#options.errorHandlers, this.#log)
      this.#lanes.push(lane)
      this.#idle.push(lane)
    }
    this.#log.info({ groupId: this.config.applicationId, concurrency }, 'share group app starting')
    this.#loop = this.#run().catch((error: unknown) => this.#fail(error))
  }

  async #run(): Promise<void> {
    const consumer = this.#consumer!
    while (!this.#stopping) {
      if (this.#idle.length === 0) {
        await Promise.race(this.#inFlight)
        continue
      }
      // Never acquire more records than there are free lanes: a waiting record's lock would run out meanwhile.
      const records = await consumer.poll(500, this.#idle.length)
      for (const record of records) {
        this.counters.delivered++
        const lane = this.#idle.pop()
        if (!lane) {
          // A broker without hard record limits (Kafka 4.1) sent more than asked: give the extra back at once.
          consumer.acknowledge(record, 'release')
          this.counters.released++
          continue
        }
        const done: Promise<void> = this.#handle(lane, record).finally(() => {
          this.#idle.push(lane)
          this.#inFlight.delete(done)
        })
        this.#inFlight.add(done)
      }
    }
  }

  async #handle(lane: ShareLane, record: ShareRecord): Promise<void> {
    const consumer = this.#consumer!
    let outputs: ProducedRecord[]
    try {
      outputs = await lane.process(record)
    } catch (error) {
      await this.#failed(record, error)
      return
    }
    try {
      if (outputs.length > 0) await this.#producer!.send(outputs.map(toProducerRecord))
    } catch (error) {
      this.#log.warn(
        { topic: record.topic, partition: record.partition, offset: String(record.offset), error: String(error) },
        'writing the outputs of a record failed: releasing it for redelivery'
      )
      consumer.acknowledge(record, 'release')
      this.counters.released++
      return
    }
    consumer.acknowledge(record, 'accept')
    this.counters.accepted++
  }

  /** A record whose processing failed (the error handler chose to fail): retried until maxDeliveries, then rejected. */
  async #failed(record: ShareRecord, error: unknown): Promise<void> {
    const consumer = this.#consumer!
    const cause = error instanceof Error ? error : new Error(String(error))
    const where = { topic: record.topic, partition: record.partition, offset: String(record.offset) }
    if (record.deliveryCount < this.#settings.maxDeliveries) {
      this.#log.warn({ ...where, deliveryCount: record.deliveryCount, error: cause.message }, 'record failed: released')
      consumer.acknowledge(record, 'release')
      this.counters.released++
      return
    }
    const topic = this.#settings.deadLetterTopic
    if (topic) {
      try {
        await this.#producer!.send([deadLetter(topic, record, cause)])
        this.counters.deadLettered++
      } catch (sendError) {
        this.#log.warn({ ...where, error: String(sendError) }, `dead-lettering to ${topic} failed: released`)
        consumer.acknowledge(record, 'release')
        this.counters.released++
        return
      }
    }
    this.#log.warn(
      { ...where, deliveryCount: record.deliveryCount, error: cause.message },
      `record failed on delivery ${record.deliveryCount} of ${this.#settings.maxDeliveries}: rejected${topic ? ` and written to ${topic}` : ''}`
    )
    consumer.acknowledge(record, 'reject')
    this.counters.rejected++
  }

  #fail(error: unknown): void {
    if (this.#error || this.#stopping) return
    this.#error = error instanceof Error ? error : new Error(String(error))
    this.#log.error({ error: this.#error.message }, 'share group app stopped')
    for (const listener of this.#errorListeners) listener(this.#error)
  }

  /** Stops fetching, lets records in flight finish (within shutdownTimeoutMs), acknowledges them and leaves the group. */
  async close(): Promise<void> {
    this.#stopping = true
    await this.#loop
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled(this.#inFlight),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.config.shutdownTimeoutMs)
      })
    ])
    clearTimeout(timer)
    await this.#consumer?.close()
    await this.#producer?.close()
    await Promise.allSettled(this.#lanes.map((lane) => lane.close()))
    this.#log.info({ ...this.counters }, 'share group app closed')
  }
}

function toProducerRecord(record: ProducedRecord): ProducerRecord {
  const headers: RecordHeader[] = []
  for (const [key, value] of record.headers) headers.push([key, value ?? Buffer.alloc(0)])
  return {
    topic: record.topic,
    ...(record.partition !== undefined ? { partition: record.partition } : {}),
    key: record.key,
    value: record.value,
    headers,
    timestamp: record.timestamp
  }
}

/** The consumed record, bytes untouched, with the runtime's `streamlane.error.*` headers. */
function deadLetter(topic: string, record: ShareRecord, error: Error): ProducerRecord {
  const headers: RecordHeader[] = [
    ...record.headers,
    [ERROR_HEADERS.class, Buffer.from(error.name)],
    [ERROR_HEADERS.message, Buffer.from(error.message)],
    [ERROR_HEADERS.stage, Buffer.from('processing')],
    [ERROR_HEADERS.topic, Buffer.from(record.topic)],
    [ERROR_HEADERS.partition, Buffer.from(String(record.partition))],
    [ERROR_HEADERS.offset, Buffer.from(String(record.offset))],
    ['streamlane.error.delivery.count', Buffer.from(String(record.deliveryCount))]
  ]
  return { topic, key: record.key, value: record.value, headers, timestamp: record.timestamp }
}
