/**
 * A running Streamlane application instance (Kafka Streams' `KafkaStreams`): joins the app's group with Streamlane's
 * assignor, runs the tasks it is given, and commits input offsets only after every output is acknowledged.
 *
 * One loop does the work: fetch, process in timestamp order per task, commit on the interval. Rebalance callbacks
 * and close take the same lock as a loop iteration, so a task is never given away halfway through a batch, and its
 * offsets are committed before anyone else may read its partitions.
 */
import { randomUUID } from 'node:crypto'
import type { Registry } from 'prom-client'
import { decodeAssignmentInfo } from '../assignment/index.ts'
import { StreamlaneError } from '../errors.ts'
import { createAdmin, type KafkaAdmin } from '../kafka/admin.ts'
import { OffsetCommitRejectedError, ProducerFencedError } from '../kafka/errors.ts'
import {
  type AssignmentChange,
  GroupMember,
  RebalanceInProgressError,
  type RevokeContext,
  type TopicPartitions
} from '../kafka/group/index.ts'
import { createPartitionReader, type KafkaPartitionReader, OFFSET_EARLIEST } from '../kafka/partition-reader.ts'
import { createProducer, type KafkaProducer } from '../kafka/producer.ts'
import type { TopicPartition } from '../kafka/types.ts'
import { type HttpServer, startHttpServer } from '../observe/http-server.ts'
import { createLogger, type Logger } from '../observe/logger.ts'
import { type AppMetrics, createAppMetrics } from '../observe/metrics.ts'
import { restoreProgressLogger } from '../observe/restore-progress-log.ts'
import { Headers } from '../serde/headers.ts'
import { type ChangelogSink, StateDirectory, TaskStateManager } from '../state/index.ts'
import { type ErrorHandlerConfig, planTopology, TaskId, type Topology, type TopologyPlan } from '../topology/index.ts'
import { resolveConfig, type StreamsConfig, type StreamsConfigInput } from './config.ts'
import { streamlaneAssignor, subscriptionUserData } from './group-protocol.ts'
import { AppLifecycle, type AppState, type StateListener } from './lifecycle.ts'
import { Mutex } from './mutex.ts'
import {
  isFatalProductionError,
  ProducerRecordCollector,
  type ProductionFailure,
  productionErrorOf
} from './producer-collector.ts'
import { ScalerReporter } from './scaler-reporter.ts'
import { StateRestorer, type TaskRestoreProgress } from './state-restorer.ts'
import { type OffsetToCommit, TaskManager } from './task-manager.ts'
import { prepareTopics } from './topic-setup.ts'

export interface StreamlaneAppOptions {
  errorHandlers?: ErrorHandlerConfig
  logger?: Logger
}

/** How long one loop iteration may process before it checks commits and lets rebalance callbacks in. */
const PROCESS_BUDGET_MS = 100
const POLL_WAIT_MS = 100

const tpKey = (topic: string, partition: number) => `${topic}:${partition}`

function flatten(partitions: readonly TopicPartitions[]): TopicPartition[] {
  return partitions.flatMap(({ topic, partitions: numbers }) => numbers.map((partition) => ({ topic, partition })))
}

export class StreamlaneApp {
  readonly config: StreamsConfig
  readonly plan: TopologyPlan
  /** Stable across restarts when the app has state (kept in the state directory), so the assignor can find it. */
  processId: string = randomUUID()
  readonly #options: StreamlaneAppOptions
  readonly #log: Logger
  readonly #lifecycle = new AppLifecycle()
  readonly #lock = new Mutex()
  #admin: KafkaAdmin | undefined
  #producer: KafkaProducer | undefined
  #reader: KafkaPartitionReader | undefined
  #member: GroupMember | undefined
  #collector: ProducerRecordCollector | undefined
  #tasks: TaskManager | undefined
  #stateDir: StateDirectory | undefined
  #restorer: StateRestorer | undefined
  #restoreReader: KafkaPartitionReader | undefined
  readonly #statefulSubtopologies: Set<number>
  #nextStateCleanupAt = 0
  #reporter: ScalerReporter | undefined
  #loop: Promise<void> | undefined
  #stopping = false
  #draining = false
  #nextCommitAt = 0
  #committedRecords = 0
  #error: Error | undefined
  readonly #errorListeners = new Set<(error: Error) => void>()
  readonly #restoreListeners = new Set<(progress: TaskRestoreProgress) => void>()
  readonly #metrics: AppMetrics
  #httpServer: HttpServer | undefined
  #rebalances = 0
  #fencings = 0

  constructor(topology: Topology, config: StreamsConfigInput, options: StreamlaneAppOptions = {}) {
    this.config = resolveConfig(config)
    this.plan = planTopology(topology, this.config.applicationId)
    this.#statefulSubtopologies = new Set(this.plan.subtopologies.filter((s) => s.stores.length > 0).map((s) => s.id))
    this.#options = options
    this.#log = options.logger ?? createLogger({ app: this.config.applicationId, client: this.config.clientId })
    this.#metrics = createAppMetrics({
      state: () => this.state,
      taskCounters: () => this.#tasks?.counterTotals(),
      committedRecords: () => this.#committedRecords,
      restoredRecords: () => this.#restorer?.totalRestored ?? 0,
      remainingRestoreRecords: () => this.#restorer?.remainingRecords ?? 0,
      activeTasks: () => this.#tasks?.taskIds.length ?? 0,
      rebalances: () => this.#rebalances,
      producerFencings: () => this.#fencings
    })
    this.onRestoreProgress(restoreProgressLogger(this.#log))
  }

  get #eos(): boolean {
    return this.config.processingGuarantee === 'exactly_once_v2'
  }

  get state(): AppState {
    return this.#lifecycle.state
  }

  /** The error that stopped the app, once it is in ERROR. */
  get error(): Error | undefined {
    return this.#error
  }

  onStateChange(listener: StateListener): () => void {
    return this.#lifecycle.onChange(listener)
  }

  /** Called once if processing stops on an error the configured handlers chose not to skip. */
  onError(listener: (error: Error) => void): () => void {
    this.#errorListeners.add(listener)
    return () => this.#errorListeners.delete(listener)
  }

  /** Task ids this instance runs as active tasks right now. */
  activeTasks(): string[] {
    return this.#tasks?.taskIds ?? []
  }

  /** Records processed since start, how many of them have committed offsets, and changelog records restored. */
  progress(): { processed: number; committed: number; restored: number } {
    return {
      processed: this.#tasks?.processedTotal ?? 0,
      committed: this.#committedRecords,
      restored: this.#restorer?.totalRestored ?? 0
    }
  }

  /** Records the app's tasks dropped on purpose (late for their window, null keys), by reason. */
  droppedRecords(): Record<string, number> {
    return this.#tasks?.droppedCounts() ?? {}
  }

  /**
   * Called as each task's stores restore: when it starts (done 0), after each batch that moved it, and when it is
   * done (`finished`, `recordsDone === recordsTotal`). A listener that throws is logged and restoration goes on.
   */
  onRestoreProgress(listener: (progress: TaskRestoreProgress) => void): () => void {
    this.#restoreListeners.add(listener)
    return () => this.#restoreListeners.delete(listener)
  }

  #reportRestoreProgress(progress: TaskRestoreProgress): void {
    for (const listener of this.#restoreListeners) {
      try {
        listener(progress)
      } catch (error) {
        this.#log.warn({ err: error, task: progress.taskId }, 'restore progress listener threw')
      }
    }
  }

  /** The app's Prometheus registry (its own, process metrics included); `await app.metrics().metrics()` is the text. */
  metrics(): Registry {
    return this.#metrics.registry
  }

  /** Port of GET /metrics, /healthz and /ready once start() opened it (`metricsPort`; the bound port for 0). */
  httpPort(): number | undefined {
    return this.#httpServer?.port
  }

  /** Checks topics, joins the group and starts processing; resolves once the first assignment is running. */
  async start(): Promise<void> {
    const { config } = this
    const connection = {
      brokers: config.bootstrapServers,
      clientId: config.clientId,
      connectTimeoutMs: config.connectTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs
    }
    this.#lifecycle.transition('REBALANCING')
    try {
      if (config.metricsPort !== undefined) {
        const server = { registry: this.#metrics.registry, state: () => this.state }
        this.#httpServer = await startHttpServer({ ...server, port: config.metricsPort, host: config.metricsHost })
        this.#log.info({ port: this.#httpServer.port }, 'metrics and health endpoint listening')
      }
      this.#admin = createAdmin(connection)
      const { partitionPlan, partitionCounts } = await prepareTopics(this.#admin, this.plan, config.replicationFactor)
      const isolation = config.processingGuarantee === 'exactly_once_v2' ? 'read_committed' : 'read_uncommitted'
      if (this.#statefulSubtopologies.size > 0) {
        this.#stateDir = StateDirectory.open({
          stateDir: config.stateDir,
          applicationId: config.applicationId,
          logger: this.#log
        })
        this.processId = this.#stateDir.processId
        // Restoration reads large batches and keeps the bytes (stores hold on to them).
        this.#restoreReader = createPartitionReader({
          ...connection,
          isolation,
          offsetReset: 'earliest',
          copyBuffers: true,
          maxPollRecords: 50_000
        })
        this.#restorer = new StateRestorer(this.#restoreReader, this.#admin)
        this.#restorer.onPlan = (task, changelogs) => this.#log.info({ task, changelogs }, 'restore plan')
        this.#restorer.onProgress = (progress) => this.#reportRestoreProgress(progress)
      }
      this.#producer = this.#createProducer()
      if (this.#eos)
        this.#log.info({ transactionalId: this.#producer.transactionalId }, 'exactly-once producer created')
      this.#reader = createPartitionReader({
        ...connection,
        isolation,
        offsetReset: 'earliest'
      })
      this.#collector = new ProducerRecordCollector(this.#producer, partitionCounts, (failure) =>
        this.#onProductionFailure(failure)
      )
      for (const topic of this.plan.changelogTopics.keys()) this.#collector.trackAcknowledgedOffsets(topic)
      this.#tasks = new TaskManager({
        plan: this.plan,
        sourceTopics: partitionPlan.sourceTopics,
        collector: this.#collector,
        errorHandlers: this.#options.errorHandlers,
        maxBufferedPerPartition: config.maxBufferedRecordsPerPartition,
        logger: this.#log
      })
      this.#member = new GroupMember({
        ...connection,
        groupId: config.applicationId,
        topics: [...new Set([...partitionPlan.sourceTopics.values()].flat())],
        groupInstanceId: config.groupInstanceId,
        sessionTimeoutMs: config.sessionTimeoutMs,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        rebalanceTimeoutMs: config.rebalanceTimeoutMs,
        assign: streamlaneAssignor({
          sourceTopics: partitionPlan.sourceTopics,
          statefulSubtopologies: this.#statefulSubtopologies,
          config,
          onAssignment: (outcome) => {
            if (outcome.error) this.#log.error({ err: outcome.error }, 'assignment failed')
            for (const line of outcome.result?.log ?? []) this.#log.debug(line)
          }
        }),
        userData: () =>
          subscriptionUserData({
            processId: this.processId,
            endpoint: config.applicationServer,
            ownedActive: this.#tasks?.taskIds ?? [],
            draining: this.#draining
          }),
        onAssigned: (change) => this.#locked(() => this.#onAssigned(change)),
        onRevoke: (partitions, context) => this.#locked(() => this.#onRevoke(partitions, context)),
        onLost: (partitions, context) => this.#locked(() => this.#onRevoke(partitions, context))
      })
      this.#member.on('rebalance', (reason) => {
        this.#log.info({ reason }, 'rebalance started')
        if (this.state === 'RUNNING') this.#lifecycle.transition('REBALANCING')
      })
      this.#member.on('warning', (error) => this.#log.warn({ err: error }, 'group member warning'))
      this.#member.on('rebalance', () => this.#rebalances++)
      this.#member.on('failed', (error) => this.#fail(error))
      // Registering the transactional id before joining fences a previous incarnation of this instance and aborts
      // its open transaction. Otherwise that transaction's pending offsets would block our own offset fetches for
      // the tasks we get back (UNSTABLE_OFFSET_COMMIT) until the broker times it out.
      if (this.#eos) await this.#producer.beginTransaction()
      await this.#member.join()
      if (config.scalerUrl) {
        this.#reporter = new ScalerReporter({
          scalerUrl: config.scalerUrl,
          groupId: config.applicationId,
          instanceId: config.groupInstanceId ?? this.processId,
          intervalMs: config.scalerReportIntervalMs,
          logger: this.#log,
          status: () => ({
            processed: this.#tasks?.processedTotal ?? 0,
            busyMs: this.#tasks?.busyMs ?? 0,
            rebalanceInProgress: this.state === 'REBALANCING',
            restoringTasks: this.#restorer?.restoringTasks ?? 0,
            memberId: this.#member?.memberId
          })
        })
        this.#reporter.start()
      }
      this.#nextCommitAt = Date.now() + config.commitIntervalMs
      this.#loop = this.#run()
    } catch (error) {
      this.#error = error instanceof Error ? error : new Error(String(error))
      this.#lifecycle.transition('ERROR')
      await this.#closeClients()
      throw error
    }
  }

  /**
   * Stops processing, commits what was processed (outputs acknowledged first), leaves the group unless the member is
   * static, and closes every connection, within `shutdownTimeoutMs`.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.state === 'NOT_RUNNING') return
    if (this.state !== 'PENDING_SHUTDOWN') this.#lifecycle.transition('PENDING_SHUTDOWN')
    this.#stopping = true
    this.#draining = true
    this.#reporter?.stop()
    const timeoutMs = options.timeoutMs ?? this.config.shutdownTimeoutMs
    let timer: NodeJS.Timeout | undefined
    let outcome: 'done' | 'timeout' | undefined
    const graceful = (async () => {
      await this.#loop
      // onRevoke(all owned, 'close') commits every task; then the member leaves (by default only if dynamic).
      await this.#member?.close({ leave: this.config.leaveGroupOnClose ?? this.config.groupInstanceId === undefined })
    })()
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    try {
      outcome = await Promise.race([graceful.then(() => 'done' as const), timedOut])
      if (outcome === 'timeout') {
        this.#log.error({ timeoutMs }, 'graceful shutdown did not finish in time; closing connections')
      }
    } catch (error) {
      this.#log.error({ err: error }, 'error during shutdown')
    } finally {
      clearTimeout(timer)
      // Tasks the member did not revoke (it failed, or a graceful step threw) close now, before the state directory.
      if (outcome !== 'timeout') await this.#closeTasksUncommitted(this.#tasks?.taskIds ?? [])
      await this.#closeClients()
      // start() may have failed (ERROR) while this close was pending.
      if (this.state === 'ERROR') this.#lifecycle.transition('PENDING_SHUTDOWN')
      this.#lifecycle.transition('NOT_RUNNING')
      this.#log.info(this.progress(), 'closed')
    }
  }

  #createProducer(): KafkaProducer {
    const { config } = this
    return createProducer({
      brokers: config.bootstrapServers,
      clientId: config.clientId,
      connectTimeoutMs: config.connectTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      idempotent: true,
      deliveryTimeoutMs: config.deliveryTimeoutMs,
      transactionTimeoutMs: config.transactionTimeoutMs,
      // One transactional producer per process, stable across restarts when the member is static.
      transactionalId: this.#eos ? `${config.applicationId}-${config.groupInstanceId ?? this.processId}` : undefined
    })
  }

  async #closeClients(): Promise<void> {
    const closing = [this.#reader?.close(), this.#restoreReader?.close(), this.#producer?.close(), this.#admin?.close()]
    closing.push(this.#httpServer?.close())
    await Promise.allSettled(closing)
    this.#stateDir?.close()
  }

  async #run(): Promise<void> {
    const reader = this.#reader!
    const tasks = this.#tasks!
    while (!this.#stopping) {
      try {
        // The poll is inside the lock, as Kafka's consumer runs rebalance callbacks inside poll(): records fetched
        // before a callback closed or rewound a task would otherwise reach the task that replaced it, out of order.
        await this.#locked(async () => {
          const restoring = (this.#restorer?.restoringTasks ?? 0) > 0
          const records = await reader.poll(restoring ? 0 : POLL_WAIT_MS)
          if (this.#stopping && records.length === 0) return
          if (restoring) await this.#restoreStep()
          await this.#ensureTransaction()
          tasks.addRecords(records)
          await tasks.process(PROCESS_BUDGET_MS)
          await tasks.punctuate(Date.now())
          this.#collector!.dispatch()
          const { pause, resume } = tasks.backPressure()
          if (pause.length > 0) reader.pause(pause)
          if (resume.length > 0) reader.resume(resume)
          if (Date.now() >= this.#nextCommitAt || tasks.commitRequested()) await this.#commit()
        })
      } catch (error) {
        await this.#fail(error)
        return
      }
    }
    // Records already fetched and buffered are processed by nobody after this point: commit what was processed.
    await this.#locked(() => this.#commit())
  }

  /**
   * Runs `work` under the lock that loop iterations and rebalance callbacks share. A fenced producer anywhere in
   * it is not fatal: the affected tasks close and the member rejoins (see #recoverFromFencing).
   */
  #locked(work: () => Promise<void>): Promise<void> {
    return this.#lock.run(async () => {
      try {
        await work()
      } catch (error) {
        const fenced = fencingOf(error)
        if (!fenced || !this.#eos || this.#stopping) throw error
        await this.#recoverFromFencing(fenced)
      }
    })
  }

  /**
   * The producer's epoch ended (a transaction outlived transactionTimeoutMs, e.g. a process paused past it, or
   * another producer took over the transactional id): the broker has aborted the open transaction. As Kafka
   * Streams does on TaskMigratedException, every task closes without committing (stores drop uncommitted writes),
   * a new producer takes a new epoch, and the member rejoins; the tasks it still owns then start again from the
   * committed offsets. If another instance really has this identity, the group fences the member and that is fatal.
   */
  async #recoverFromFencing(error: ProducerFencedError): Promise<void> {
    const tasks = this.#tasks!
    this.#log.warn(
      { err: error, tasks: tasks.taskIds },
      'producer fenced; closing tasks without committing, starting a new producer and rejoining the group'
    )
    for (const id of tasks.taskIds) {
      const partitions = [...tasks.partitionsOf(id)]
      this.#restorer?.remove(id)
      await tasks.closeTask(id, false)
      this.#reader!.unassign(partitions)
    }
    const fencedProducer = this.#producer!
    this.#producer = this.#createProducer()
    await this.#collector!.replaceProducer(this.#producer)
    await fencedProducer.close()
    this.#fencings++
    this.#member!.requestRejoin('the producer was fenced')
  }

  /** Restores one batch of changelog records; tasks whose stores caught up start processing. */
  async #restoreStep(): Promise<void> {
    for (const done of await this.#restorer!.step(20)) {
      this.#tasks!.markRestored(done.taskId)
      this.#reader!.resume([...this.#tasks!.partitionsOf(done.taskId)])
      const seconds = Math.max(done.ms, 1) / 1000
      this.#log.info(
        {
          task: done.taskId,
          records: done.records,
          bytes: done.bytes,
          ms: done.ms,
          recordsPerSecond: Math.round(done.records / seconds)
        },
        'task restored'
      )
    }
  }

  /** Every commit, timed for streamlane_app_commit_duration_seconds. */
  async #commit(taskIds?: Iterable<string>): Promise<void> {
    const done = this.#metrics.commitTimer()
    try {
      await this.#commitUntimed(taskIds)
    } finally {
      done()
    }
  }

  /**
   * Makes outputs and changelog writes durable (acks), then the stores' writes with the changelog offsets they
   * reached, then commits the input offsets of `taskIds` (default: every task).
   */
  async #commitUntimed(taskIds?: Iterable<string>): Promise<void> {
    if (this.#eos) return this.#commitTransaction()
    const tasks = this.#tasks!
    const ids = taskIds ? [...taskIds] : undefined
    const offsets = tasks.offsetsToCommit(ids)
    await this.#collector!.flush()
    tasks.commitState((topic, partition) => this.#collector!.acknowledgedOffset(topic, partition), ids)
    this.#nextCommitAt = Date.now() + this.config.commitIntervalMs
    if (this.#stateDir && Date.now() >= this.#nextStateCleanupAt) {
      this.#stateDir.refreshLock()
      this.#stateDir.cleanRemovedTasks(tasks.taskIds)
      this.#nextStateCleanupAt = Date.now() + 30_000
    }
    if (offsets.length === 0) return
    try {
      await this.#member!.commitOffsets(offsets)
      tasks.markCommitted(offsets)
      this.#committedRecords = tasks.processedTotal
    } catch (error) {
      // The group moved on (rebalance, fenced generation): the commit is retried by the owner after the rebalance,
      // and records are replayed at worst, never skipped.
      if (error instanceof RebalanceInProgressError || error instanceof OffsetCommitRejectedError) {
        this.#log.warn({ err: error, partitions: offsets.length }, 'offset commit deferred')
        return
      }
      throw error
    }
  }

  async #onAssigned(change: AssignmentChange): Promise<void> {
    const tasks = this.#tasks!
    const info = decodeAssignmentInfo(change.assignment.userData)
    if (info.errorCode !== 0) {
      throw new StreamlaneError(
        'STREAMLANE_ASSIGNMENT_ERROR',
        `group ${this.config.applicationId}: the leader could not assign tasks (error code ${info.errorCode}); see the leader's log`
      )
    }
    // Every owned partition, not just the added ones: after a fencing closed all tasks, the same assignment comes back.
    const newTasks = await this.#startTasks(flatten(change.assignment.partitions))
    this.#log.info(
      { generation: change.assignment.generationId, active: tasks.taskIds, added: newTasks },
      'assignment running'
    )
    if (this.state === 'REBALANCING') this.#lifecycle.transition('RUNNING')
  }

  /**
   * Creates the tasks of newly owned partitions, positions the reader at the group's committed offsets (earliest
   * without one), and starts restoring their stores. Returns the ids of the tasks created.
   */
  async #startTasks(added: TopicPartition[]): Promise<string[]> {
    const tasks = this.#tasks!
    const newTasks = [...tasks.groupByTask(added)].filter(([id]) => !tasks.has(id))
    if (newTasks.length === 0) return []
    const byTopic = new Map<string, number[]>()
    for (const { topic, partition } of newTasks.flatMap(([, partitions]) => partitions)) {
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition])
    }
    const committed = await this.#member!.fetchOffsets(
      [...byTopic].map(([topic, partitions]) => ({ topic, partitions }))
    )
    const committedByPartition = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c.offset]))
    const toRead = []
    for (const [id, partitions] of newTasks) {
      const offsets = new Map<string, bigint>()
      for (const { topic, partition } of partitions) {
        const offset = committedByPartition.get(tpKey(topic, partition)) ?? -1n
        if (offset >= 0n) offsets.set(tpKey(topic, partition), offset)
        toRead.push({ topic, partition, offset: offset >= 0n ? offset : OFFSET_EARLIEST })
      }
      const taskId = TaskId.parse(id)
      const state = this.#statefulSubtopologies.has(taskId.subtopology) ? await this.#openState(taskId) : undefined
      const graph = tasks.createTask(taskId, partitions, offsets, state?.manager)
      if (state) state.bind(graph)
    }
    await this.#reader!.assign(toRead)
    for (const [id] of newTasks) {
      const manager = tasks.isRestoring(id) ? tasks.stateOf(id) : undefined
      if (!manager) continue
      if (await this.#restorer!.add(id, manager, manager.changelogPartitions())) tasks.markRestored(id)
      else this.#reader!.pause([...tasks.partitionsOf(id)])
    }
    return newTasks.map(([id]) => id)
  }

  async #onRevoke(partitions: TopicPartitions[], context: RevokeContext): Promise<void> {
    const tasks = this.#tasks!
    const lost = flatten(partitions)
    const byTask = tasks.groupByTask(lost)
    if (this.#error) {
      await this.#closeTasksUncommitted([...byTask.keys()])
      this.#reader!.unassign(lost)
      this.#log.info({ reason: context.reason, tasks: [...byTask.keys()] }, 'tasks closed without committing')
      return
    }
    if (context.reason !== 'lost') await this.#commit(byTask.keys())
    else if (this.#eos) {
      // The open transaction holds output of the lost tasks: abort it, and restart the others from their offsets.
      const lostIds = new Set(byTask.keys())
      await this.#abortAndRewind((id) => !lostIds.has(id))
    } else await this.#collector!.flush().catch(() => undefined)
    for (const id of byTask.keys()) {
      this.#restorer?.remove(id)
      await tasks.closeTask(id, context.reason !== 'lost')
    }
    this.#reader!.unassign(lost)
    this.#log.info({ reason: context.reason, tasks: [...byTask.keys()] }, 'tasks revoked')
  }

  /**
   * A batch the broker refused: each record goes to the production handler (fail by default), whose dead-letter
   * records are sent in its place. A refused changelog write always fails: skipping it would silently make the
   * store and its changelog disagree.
   */
  #onProductionFailure(failure: ProductionFailure): void {
    const handler = this.#options.errorHandlers?.production
    if (!handler || failure.records.some((r) => this.plan.changelogTopics.has(r.topic))) {
      throw productionErrorOf(failure)
    }
    failure.origins.forEach((origin, i) => {
      const response = handler.handle({
        stage: 'production',
        error: failure.error,
        taskId: origin.taskId,
        nodeName: origin.sinkName ?? 'dead-letter',
        sourceRecord: origin.sourceRecord
      })
      if (response.action === 'fail') {
        throw productionErrorOf({ error: failure.error, records: [failure.records[i]!], origins: [origin] })
      }
      this.#tasks!.countProductionSkip(response.deadLetterRecords?.length ?? 0)
      for (const record of response.deadLetterRecords ?? []) this.#collector!.send(record, origin)
    })
    this.#log.warn({ err: failure.error, records: failure.records.length }, 'records the broker refused were skipped')
  }

  /** Locks the task's state directory and opens its state manager; changelog writes go through the collector. */
  async #openState(
    taskId: TaskId
  ): Promise<{ manager: TaskStateManager; bind: (graph: { currentTimestampMs: number }) => void }> {
    const lease = await this.#stateDir!.prepareTask(taskId.toString())
    const collector = this.#collector!
    const sink: ChangelogSink = {
      send(topic, partition, key, value, timestamp) {
        collector.send(
          { topic, partition, key, value, headers: Headers.empty, timestamp },
          { taskId, sinkName: null, sourceRecord: null }
        )
      }
    }
    let graph: { currentTimestampMs: number } | undefined
    const manager = new TaskStateManager({
      applicationId: this.config.applicationId,
      taskId,
      lease,
      changelogSink: sink,
      cacheMaxBytes: this.config.cacheMaxBytes,
      logger: this.#log,
      // The timestamp the extractor gave the record being processed (stream time inside punctuators).
      currentTimestamp: () => graph?.currentTimestampMs ?? Date.now()
    })
    return {
      manager,
      bind: (g) => {
        graph = g
      }
    }
  }

  /** Under exactly-once, every send belongs to a transaction: one is open whenever tasks may produce. */
  async #ensureTransaction(): Promise<void> {
    if (this.#eos && !this.#producer!.inTransaction) await this.#producer!.beginTransaction()
  }

  /**
   * Exactly-once commit: store flushes and outputs, then the input offsets (with the group's generation and member
   * id) join the transaction, which commits; only then do the stores commit locally, so a crash at any point leaves
   * stores that restore just the difference. A transaction that cannot commit is aborted and every task starts
   * again from the committed offsets: nothing it wrote is ever visible to read_committed readers.
   */
  async #commitTransaction(): Promise<void> {
    const tasks = this.#tasks!
    const producer = this.#producer!
    this.#nextCommitAt = Date.now() + this.config.commitIntervalMs
    if (!producer.inTransaction) return
    const offsets = tasks.offsetsToCommit()
    try {
      await this.#collector!.flush()
      if (offsets.length > 0) {
        const generation = this.#member!.generation
        if (!generation) {
          throw new StreamlaneError(
            'STREAMLANE_NOT_IN_GROUP',
            `not a member of group ${this.config.applicationId} right now`
          )
        }
        await producer.sendOffsetsToTransaction({
          groupId: this.config.applicationId,
          generationId: generation.generationId,
          memberId: generation.memberId,
          groupInstanceId: generation.groupInstanceId ?? undefined,
          offsets
        })
      }
      await producer.commitTransaction()
    } catch (error) {
      // Records the production handler failed on (a missing topic, a record too large) would fail every retry.
      if (error instanceof ProducerFencedError || isFatalProductionError(error)) throw error
      this.#log.warn(
        { err: error },
        'transaction not committed; aborting it and restarting tasks from committed offsets'
      )
      await this.#abortAndRewind(() => true)
      // The group moved on without us (Kafka Streams' TaskMigratedException): rejoin now rather than at the next
      // heartbeat, so the tasks we no longer own stop being restarted here.
      if (error instanceof OffsetCommitRejectedError) this.#member!.requestRejoin('the offset commit was refused')
      return
    }
    tasks.commitState((topic, partition) => this.#collector!.acknowledgedOffset(topic, partition))
    tasks.markCommitted(offsets)
    this.#committedRecords = tasks.processedTotal
  }

  /**
   * Aborts the open transaction, closes every task without committing (stores drop their uncommitted writes), and
   * starts again, from the group's committed offsets, the tasks `keep` selects.
   */
  async #abortAndRewind(keep: (taskId: string) => boolean): Promise<void> {
    const producer = this.#producer!
    if (producer.inTransaction) await producer.abortTransaction()
    const tasks = this.#tasks!
    const restart: TopicPartition[] = []
    for (const id of tasks.taskIds) {
      const partitions = [...tasks.partitionsOf(id)]
      if (keep(id)) restart.push(...partitions)
      this.#restorer?.remove(id)
      await tasks.closeTask(id, false)
      this.#reader!.unassign(partitions)
    }
    await this.#startTasks(restart)
  }

  /**
   * After the app failed (Kafka Streams' dirty close): aborts the open transaction and closes the tasks without
   * committing offsets or writing checkpoints (stores drop their uncommitted writes), so the input records whose
   * outputs were not written are read again after a restart. Never throws: it runs on the way out.
   */
  async #closeTasksUncommitted(ids: readonly string[]): Promise<void> {
    const tasks = this.#tasks
    if (!tasks || ids.length === 0) return
    if (this.#eos && this.#producer?.inTransaction) {
      try {
        await this.#producer.abortTransaction()
      } catch (error) {
        this.#log.warn(
          { err: error },
          'could not abort the open transaction; read_committed readers never see it, and the broker aborts it after transactionTimeoutMs'
        )
      }
    }
    for (const id of ids) {
      const partitions = [...tasks.partitionsOf(id)]
      this.#restorer?.remove(id)
      try {
        await tasks.closeTask(id, false)
      } catch (error) {
        this.#log.warn({ err: error, task: id }, 'task did not close cleanly')
      }
      this.#reader?.unassign(partitions)
    }
  }

  async #fail(error: unknown): Promise<void> {
    if (this.#error || this.#stopping) return
    this.#error = error instanceof Error ? error : new Error(String(error))
    this.#log.error({ err: this.#error }, 'processing stopped on an error')
    this.#stopping = true
    if (this.state !== 'PENDING_SHUTDOWN' && this.state !== 'NOT_RUNNING') this.#lifecycle.transition('ERROR')
    for (const listener of this.#errorListeners) listener(this.#error)
  }
}

/** The fencing behind `error`, which may come wrapped (a processor's send, a production failure). */
function fencingOf(error: unknown): ProducerFencedError | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ProducerFencedError) return e
  }
  return undefined
}

export type { OffsetToCommit }
