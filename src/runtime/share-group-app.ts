import {
  alterShareGroupConfig,
  createProducer,
  createShareConsumer,
  type KafkaProducer,
  type KafkaShareConsumer,
  type ShareRecord
} from '../kafka/index.ts'
import {
  createLogger,
  createShareGroupMetrics,
  type HttpServer,
  type Logger,
  type ShareGroupCounters
} from '../observe/index.ts'
import {
  type ErrorHandlerConfig,
  type ProducedRecord,
  planTopology,
  type Topology,
  TopologyError,
  type TopologyPlan
} from '../topology/index.ts'
import type { StreamsConfig } from './config.ts'
import { finishedWithin } from './finished-within.ts'
import { kafkaConnectionOf } from './kafka-connection.ts'
import { Listeners } from './listeners.ts'
import { type ScalerReporter, startScalerReporter } from './scaler-reporter.ts'
import { startShareGroupEndpoint } from './share-group-endpoint.ts'
import { ShareLane } from './share-lane.ts'
import { locksDue, renewalIntervalMs } from './share-lock-renewal.ts'
import { deadLetter, toProducerRecord } from './share-records.ts'

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

// The counters' shape is observe's, which shows them as metrics without importing the runtime.
export type { ShareGroupCounters }

const ACKNOWLEDGED = { accept: 'accepted', release: 'released', reject: 'rejected' } as const

interface InFlight {
  record: ShareRecord
  startedAt: number
  lockedAt: number
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
  readonly counters: ShareGroupCounters = {
    delivered: 0,
    redelivered: 0,
    accepted: 0,
    released: 0,
    rejected: 0,
    deadLettered: 0,
    renewed: 0,
    renewFailed: 0
  }
  readonly #settings: NonNullable<StreamsConfig['shareGroup']>
  readonly #options: ShareGroupAppOptions
  readonly #log: Logger
  readonly #errorListeners = new Listeners<[Error]>()
  readonly #idle: ShareLane[] = []
  readonly #lanes: ShareLane[] = []
  readonly #inFlight = new Set<Promise<void>>()
  /** Records being processed, for lock renewal and the scaler's in-flight bound. */
  readonly #held = new Set<InFlight>()
  #consumer: KafkaShareConsumer | undefined
  #producer: KafkaProducer | undefined
  #loop: Promise<void> | undefined
  #renewTimer: NodeJS.Timeout | undefined
  #httpServer: HttpServer | undefined
  #reporter: ScalerReporter | undefined
  #stopping = false
  #closed = false
  #error: Error | undefined
  /** Busy time: wall time with at least one record in flight (the scaler's true rate is records per busy second). */
  #busyMs = 0
  #busySince = 0

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

  /** Records being processed now. */
  get inFlight(): number {
    return this.#held.size
  }

  /** Port of GET /metrics, /healthz and /ready once start() opened it (`metricsPort`; the bound port for 0). */
  httpPort(): number | undefined {
    return this.#httpServer?.port
  }

  /**
   * Liveness and readiness: live until the app failed or closed; ready once it joined the group and has partitions
   * to fetch from, until it starts shutting down (a share group has no rebalance to wait for).
   */
  health(): { state: string; live: boolean; ready: boolean } {
    const state = this.#error
      ? 'ERROR'
      : this.#closed
        ? 'NOT_RUNNING'
        : this.#stopping
          ? 'PENDING_SHUTDOWN'
          : this.assignment().length > 0
            ? 'RUNNING'
            : 'STARTING'
    return { state, live: state !== 'ERROR' && state !== 'NOT_RUNNING', ready: state === 'RUNNING' }
  }

  onError(listener: (error: Error) => void): () => void {
    return this.#errorListeners.add(listener)
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
    this.#httpServer = await startShareGroupEndpoint({
      config: this.config,
      registry: createShareGroupMetrics({
        applicationId: this.config.applicationId,
        counters: () => this.counters,
        inFlight: () => this.#held.size,
        concurrency,
        assignedPartitions: () => this.assignment().length
      }),
      health: () => this.health(),
      logger: this.#log
    })
    this.#startReporter()
    this.#log.info({ groupId: this.config.applicationId, concurrency }, 'share group app starting')
    this.#loop = this.#run().catch((error: unknown) => this.#fail(error))
    void this.#startRenewing()
  }

  #startReporter(): void {
    const config = this.config
    this.#reporter = startScalerReporter(config, {
      // The local scaler names its workers by STREAMLANE_GROUP_INSTANCE_ID: a report tells it the worker joined.
      instanceId: config.groupInstanceId ?? this.memberId ?? config.clientId,
      logger: this.#log,
      status: () => {
        const oldest = Math.min(...[...this.#held].map((h) => h.startedAt))
        return {
          processed: this.counters.accepted + this.counters.rejected + this.counters.released,
          busyMs: this.#busyMs + (this.#held.size > 0 ? Date.now() - this.#busySince : 0),
          rebalanceInProgress: false,
          restoringTasks: 0,
          ...(this.memberId ? { memberId: this.memberId } : {}),
          inFlight: { records: this.#held.size, oldestStartedAt: Number.isFinite(oldest) ? oldest : Date.now() }
        }
      }
    })
  }

  /**
   * Renews the locks of records in flight every so often (KIP-1222), so a record slower than the lock is not handed to
   * another instance meanwhile. Brokers before Kafka 4.2 cannot renew: a record must then finish within the lock.
   */
  async #startRenewing(): Promise<void> {
    const consumer = this.#consumer!
    const supported = await consumer.supportsRenew().catch(() => false)
    if (!supported) {
      this.#log.warn(
        'the brokers cannot renew acquisition locks (Kafka 4.2+): a record slower than the lock is redelivered'
      )
      return
    }
    const tick = async () => {
      const lockMs = consumer.acquisitionLockTimeoutMs
      const due = locksDue(this.#held, lockMs, Date.now())
      if (due.length > 0 && !this.#closed) {
        const renewedAt = Date.now()
        try {
          const refused = await consumer.renew(due.map((h) => h.record))
          for (const h of due) h.lockedAt = renewedAt
          this.counters.renewed += due.length
          this.counters.renewFailed += refused.length
          for (const failure of refused) this.#log.warn(failure, 'lock renewal refused: the record may be redelivered')
        } catch (error) {
          this.#log.warn({ error: String(error) }, 'lock renewal failed; retried on the next tick')
        }
      }
      if (!this.#closed) this.#renewTimer = setTimeout(tick, renewalIntervalMs(lockMs))
    }
    this.#renewTimer = setTimeout(tick, renewalIntervalMs(consumer.acquisitionLockTimeoutMs))
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
        if (record.deliveryCount > 1) this.counters.redelivered++
        const lane = this.#idle.pop()
        if (!lane) {
          // A broker without hard record limits (Kafka 4.1) sent more than asked: give the extra back at once.
          consumer.acknowledge(record, 'release')
          this.counters.released++
          continue
        }
        const now = Date.now()
        const held: InFlight = { record, startedAt: now, lockedAt: now }
        if (this.#held.size === 0) this.#busySince = now
        this.#held.add(held)
        const done: Promise<void> = this.#handle(lane, record).finally(() => {
          this.#held.delete(held)
          if (this.#held.size === 0) this.#busyMs += Date.now() - this.#busySince
          this.#idle.push(lane)
          this.#inFlight.delete(done)
        })
        this.#inFlight.add(done)
      }
    }
  }

  /**
   * Acknowledges a record unless the consumer closed meanwhile: a record still running at the shutdown timeout was
   * released by the close, and whatever its processing ends with no longer counts.
   */
  #acknowledge(record: ShareRecord, type: 'accept' | 'release' | 'reject'): void {
    if (this.#closed) return
    this.#consumer!.acknowledge(record, type)
    this.counters[ACKNOWLEDGED[type]]++
  }

  async #handle(lane: ShareLane, record: ShareRecord): Promise<void> {
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
      this.#acknowledge(record, 'release')
      return
    }
    this.#acknowledge(record, 'accept')
  }

  /** A record whose processing failed (the error handler chose to fail): retried until maxDeliveries, then rejected. */
  async #failed(record: ShareRecord, error: unknown): Promise<void> {
    const cause = error instanceof Error ? error : new Error(String(error))
    const where = { topic: record.topic, partition: record.partition, offset: String(record.offset) }
    if (record.deliveryCount < this.#settings.maxDeliveries) {
      this.#log.warn({ ...where, deliveryCount: record.deliveryCount, error: cause.message }, 'record failed: released')
      this.#acknowledge(record, 'release')
      return
    }
    const topic = this.#settings.deadLetterTopic
    if (topic) {
      try {
        await this.#producer!.send([deadLetter(topic, record, cause)])
        this.counters.deadLettered++
      } catch (sendError) {
        this.#log.warn({ ...where, error: String(sendError) }, `dead-lettering to ${topic} failed: released`)
        this.#acknowledge(record, 'release')
        return
      }
    }
    this.#log.warn(
      { ...where, deliveryCount: record.deliveryCount, error: cause.message },
      `record failed on delivery ${record.deliveryCount} of ${this.#settings.maxDeliveries}: rejected${topic ? ` and written to ${topic}` : ''}`
    )
    this.#acknowledge(record, 'reject')
  }

  #fail(error: unknown): void {
    if (this.#error || this.#stopping) return
    this.#error = error instanceof Error ? error : new Error(String(error))
    this.#log.error({ error: this.#error.message }, 'share group app stopped')
    this.#errorListeners.emit([this.#error])
  }

  /** Stops fetching, lets records in flight finish (within shutdownTimeoutMs), acknowledges them and leaves the group. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#stopping = true
    this.#reporter?.stop()
    await this.#loop
    await finishedWithin(Promise.allSettled(this.#inFlight), this.config.shutdownTimeoutMs)
    // Renewals go on while records finish; whatever is still running now is released by the consumer's close.
    this.#closed = true
    clearTimeout(this.#renewTimer)
    if (this.#held.size > 0) {
      this.#log.warn({ records: this.#held.size }, 'records still in flight at the shutdown timeout: released')
    }
    await this.#consumer?.close()
    await this.#producer?.close()
    await Promise.allSettled(this.#lanes.map((lane) => lane.close()))
    await this.#httpServer?.close()
    this.#log.info({ ...this.counters }, 'share group app closed')
  }
}
