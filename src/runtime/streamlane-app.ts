/**
 * A running Streamlane application instance (Kafka Streams' `KafkaStreams`): joins the app's group with Streamlane's
 * assignor, runs the tasks it is given, and commits input offsets only after every output is acknowledged.
 *
 * One loop does the work (processing-loop.ts): fetch, process in timestamp order per task, commit on the interval.
 * Rebalance callbacks (rebalance-listener.ts) and close take the same lock as a loop iteration, so a task is never
 * given away halfway through a batch, and its offsets are committed before anyone else may read its partitions. How
 * tasks start, restore and close is TaskLifecycle's; what a commit does under each processing guarantee, and after a
 * fencing, is the Committer's.
 */
import { randomUUID } from 'node:crypto'
import type { Registry } from 'prom-client'
import type { KafkaConnectionSecurity } from '../kafka/index.ts'
import {
  type AppMetrics,
  type AppStatus,
  buildAppStatus,
  createAppMetrics,
  createLogger,
  type HttpServer,
  type Logger,
  restoreProgressLogger,
  topologyHash
} from '../observe/index.ts'
import {
  allLocalStorePartitionLags,
  type GroupHostMap,
  type KeyQueryMetadata,
  type LocalStoreOptions,
  localKeyValueStore,
  localSessionStore,
  localWindowStore,
  metadataForAllStreamsClients,
  type QuerySource,
  queryMetadataForKey,
  type StorePartitionLag,
  type StreamsClientMetadata
} from '../query/index.ts'
import type { Serde } from '../serde/index.ts'
import type { ReadOnlyKeyValueStore, ReadOnlySessionStore, ReadOnlyWindowStore } from '../state/index.ts'
import { type ErrorHandlerConfig, planTopology, type Topology, type TopologyPlan } from '../topology/index.ts'
import { startAppHttpServer } from './app-http-server.ts'
import { AppLock } from './app-lock.ts'
import { appMetricsSource } from './app-metrics-source.ts'
import { AppLifecycle, type AppState, type StateListener } from './app-state.ts'
import { type AppStatusFeed, appStatusSource } from './app-status-source.ts'
import { resolveConfig, type StreamsConfig, type StreamsConfigInput } from './config.ts'
import { finishedWithin } from './finished-within.ts'
import { instanceStatus } from './instance-status.ts'
import { kafkaConnectionSecurity } from './kafka-security.ts'
import { Listeners } from './listeners.ts'
import { MembershipGuard } from './membership-guard.ts'
import { runProcessingLoop } from './processing-loop.ts'
import { queryAccess } from './query-access.ts'
import { RebalanceListener } from './rebalance-listener.ts'
import { connectRunningApp, type RunningApp } from './running-app.ts'
import { type ScalerReporter, startScalerReporter } from './scaler-reporter.ts'
import type { TaskRestoreProgress } from './state-restorer.ts'
import type { OffsetToCommit } from './task-manager.ts'

export interface StreamlaneAppOptions {
  errorHandlers?: ErrorHandlerConfig
  logger?: Logger
}

export class StreamlaneApp {
  readonly config: StreamsConfig
  readonly plan: TopologyPlan
  /** Stable across restarts when the app has state (kept in the state directory), so the assignor can find it. */
  processId: string = randomUUID()
  readonly #options: StreamlaneAppOptions
  readonly #log: Logger
  readonly #lifecycle = new AppLifecycle()
  /** Loop iterations, rebalance callbacks and close run one at a time. */
  readonly #lock: AppLock
  /** Every collaborator of the started app; set once start() has connected. */
  #running: RunningApp | undefined
  /** Whether the member may still write for its tasks; nothing is processed, sent or committed while in doubt. */
  readonly #guard: MembershipGuard
  /** What each rebalance does to the tasks (assignment, revocation). */
  readonly #rebalance: RebalanceListener
  readonly #statefulSubtopologies: Set<number>
  #reporter: ScalerReporter | undefined
  #loop: Promise<void> | undefined
  #stopping = false
  #draining = false
  #error: Error | undefined
  readonly #errorListeners = new Listeners<[Error]>()
  readonly #restoreListeners = new Listeners<[TaskRestoreProgress]>()
  readonly #metrics: AppMetrics
  readonly #status: AppStatusFeed
  #httpServer: HttpServer | undefined
  /** TLS and SASL options of every Kafka connection, certificates read; holds secrets, so it is never logged. */
  readonly #kafkaSecurity: KafkaConnectionSecurity
  /** Interactive queries' view of this app; the host maps are those of the last assignment. */
  readonly #query: QuerySource
  #hostMap: GroupHostMap | undefined

  constructor(topology: Topology, config: StreamsConfigInput, options: StreamlaneAppOptions = {}) {
    this.config = resolveConfig(config)
    this.#lock = new AppLock({ exactlyOnce: this.config.guarantee.exactlyOnce, stopping: () => this.#stopping })
    this.#kafkaSecurity = kafkaConnectionSecurity(this.config.security ?? { securityProtocol: 'PLAINTEXT' })
    this.plan = planTopology(topology, this.config.applicationId)
    this.#statefulSubtopologies = new Set(this.plan.subtopologies.filter((s) => s.stores.length > 0).map((s) => s.id))
    this.#options = options
    this.#log = options.logger ?? createLogger({ app: this.config.applicationId, client: this.config.clientId })
    const described = topology.describe()
    const description = described.toString()
    this.#metrics = createAppMetrics(
      appMetricsSource(this, () => this.#running),
      {
        applicationId: this.config.applicationId,
        topologyHash: topologyHash(description),
        partitionSeries: this.config.metricsPartitionSeries
      }
    )
    this.#status = appStatusSource({
      applicationId: this.config.applicationId,
      topologyHash: topologyHash(description),
      topology: described,
      processId: () => this.processId,
      running: () => this.#running
    })
    this.onRestoreProgress(restoreProgressLogger(this.#log))
    this.onRestoreProgress((progress) => this.#status.onRestoreProgress(progress))
    this.#guard = new MembershipGuard({
      sessionTimeoutMs: this.config.sessionTimeoutMs,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      hasGeneration: () => this.#running?.member.generation !== undefined,
      // Whichever write path asks first after a pause (the loop, a commit, the producer) logs the start of the doubt.
      onChange: (doubt) => {
        if (doubt === undefined) this.#log.info('writes resumed: the group confirmed this member')
        else {
          this.#log.warn(
            { reason: doubt, tasks: this.#running?.tasks.taskIds },
            'writes held: this member may have lost its tasks'
          )
        }
      }
    })
    this.#rebalance = new RebalanceListener({
      config: this.config,
      guard: this.#guard,
      logger: this.#log,
      metrics: this.#metrics,
      onHostMap: (hostMap) => {
        this.#hostMap = hostMap
      },
      onAssignmentApplied: (running) => this.#runningIfRestored(running, true),
      failed: () => this.#error !== undefined,
      commit: (running, taskIds) => this.#commit(running, taskIds)
    })
    this.#query = queryAccess({
      plan: this.plan,
      applicationServer: this.config.applicationServer,
      sourceTopics: () => this.#running?.topicLayout.sourceTopics,
      partitionCounts: () => this.#running?.topicLayout.partitionCounts,
      tasks: () => this.#running?.tasks,
      standbys: () => this.#running?.replicas?.standbys,
      hostMap: () => (this.#running?.member.rebalanceInProgress === false ? this.#hostMap : undefined),
      globalStores: () => this.#running?.globalState?.stores
    })
  }

  /**
   * Which instance (`applicationServer`) holds `key` of `store` as active, which hold standby copies, and its
   * partition. Throws a retriable QueryError (STREAMLANE_QUERY_UNAVAILABLE) while the group rebalances.
   */
  queryMetadataForKey<K>(store: string, key: K, keySerde: Serde<K>): KeyQueryMetadata {
    return queryMetadataForKey(this.#query, store, key, keySerde)
  }

  /** Every instance of the group with its applicationServer and the partitions it holds. */
  metadataForAllStreamsClients(): StreamsClientMetadata[] {
    return metadataForAllStreamsClients(this.#query, [...this.plan.storeBuilders.keys()])
  }

  /**
   * Every store partition held here, active or standby, with its changelog lag (Kafka Streams'
   * allLocalStorePartitionLags): how stale a read with `enableStaleStores` may be.
   */
  allLocalStorePartitionLags(): Map<string, Map<number, StorePartitionLag>> {
    return allLocalStorePartitionLags(this.#query, [...this.plan.storeBuilders.keys()])
  }

  /** A read-only view of a key-value store's partitions held here (docs/interactive-queries.md). */
  keyValueStore<K, V>(store: string, options?: LocalStoreOptions<K>): ReadOnlyKeyValueStore<K, V> {
    return localKeyValueStore(this.#query, store, options)
  }

  windowStore<K, V>(store: string, options?: LocalStoreOptions<K>): ReadOnlyWindowStore<K, V> {
    return localWindowStore(this.#query, store, options)
  }

  sessionStore<K, AGG>(store: string, options?: LocalStoreOptions<K>): ReadOnlySessionStore<K, AGG> {
    return localSessionStore(this.#query, store, options)
  }

  get state(): AppState {
    return this.#lifecycle.state
  }

  /**
   * Whether every active task assigned to this instance has restored and processes (state RUNNING). False while it
   * starts, rebalances, restores or shuts down; `/ready` answers 200 exactly when this is true.
   */
  get ready(): boolean {
    return this.#lifecycle.ready
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
    return this.#errorListeners.add(listener)
  }

  /** Task ids this instance runs as active tasks right now. */
  activeTasks(): string[] {
    return this.#running?.tasks.taskIds ?? []
  }

  /** Records processed since start, how many of them have committed offsets, and changelog records restored. */
  progress(): { processed: number; committed: number; restored: number } {
    return {
      processed: this.#running?.tasks.processedTotal ?? 0,
      committed: this.#running?.committer.committedRecords ?? 0,
      restored: this.#running?.restorer?.totalRestored ?? 0
    }
  }

  /** Records the app's tasks dropped on purpose (late for their window, null keys), by reason. */
  droppedRecords(): Record<string, number> {
    return this.#running?.tasks.droppedCounts() ?? {}
  }

  /**
   * Called as each task's stores restore: when it starts (done 0), after each batch that moved it, and when it is
   * done (`finished`, `recordsDone === recordsTotal`). A listener that throws is logged and restoration goes on.
   */
  onRestoreProgress(listener: (progress: TaskRestoreProgress) => void): () => void {
    return this.#restoreListeners.add(listener)
  }

  #reportRestoreProgress(progress: TaskRestoreProgress): void {
    this.#restoreListeners.emit([progress], (error) =>
      this.#log.warn({ err: error, task: progress.taskId }, 'restore progress listener threw')
    )
  }

  /** The app's Prometheus registry (its own, process metrics included); `await app.metrics().metrics()` is the text. */
  metrics(): Registry {
    return this.#metrics.registry
  }

  /** What this instance is doing, as `GET /status` answers and the status page shows (docs/observability.md). */
  status(): AppStatus {
    return buildAppStatus(this.#status.source, this.#metrics)
  }

  /** Port of GET /metrics, /healthz and /ready once start() opened it (`metricsPort`; the bound port for 0). */
  httpPort(): number | undefined {
    return this.#httpServer?.port
  }

  /** Checks topics, joins the group and starts processing; resolves once the first assignment is running. */
  async start(): Promise<void> {
    const { config } = this
    this.#lifecycle.transition('REBALANCING')
    try {
      this.#httpServer = await startAppHttpServer({
        config,
        registry: this.#metrics.registry,
        lifecycle: this.#lifecycle,
        stores: [...this.plan.storeBuilders.keys()],
        query: this.#query,
        status: {
          state: () => this.state,
          processId: () => this.processId,
          running: () => this.#running,
          hostMap: () => this.#hostMap
        },
        report: () => this.status(),
        logger: this.#log
      })
      const running = await connectRunningApp({
        config,
        plan: this.plan,
        security: this.#kafkaSecurity,
        statefulSubtopologies: this.#statefulSubtopologies,
        processId: this.processId,
        errorHandlers: this.#options.errorHandlers,
        guard: this.#guard,
        logger: this.#log,
        storeMetering: this.#metrics.storeOperations,
        hooks: {
          draining: () => this.#draining,
          onAssigned: (running, change) => this.#lock.run(running, () => this.#rebalance.onAssigned(running, change)),
          onRevoke: (running, partitions, context) =>
            this.#lock.run(running, () => this.#rebalance.onRevoke(running, partitions, context)),
          onRebalance: (reason) => {
            this.#log.info({ reason }, 'rebalance started')
            if (this.state === 'RUNNING') this.#lifecycle.transition('REBALANCING')
            this.#metrics.rebalances.started(reason)
          },
          onFailed: (error) => this.#fail(error),
          onRestoreProgress: (progress) => this.#reportRestoreProgress(progress)
        }
      })
      this.#running = running
      this.processId = running.processId
      const loopMetrics = this.#metrics.loop
      running.collector.onSinkRecord = (timestampMs) => loopMetrics.recordAtSink(timestampMs)
      // Registering the transactional id before joining fences a previous incarnation of this instance and aborts
      // its open transaction. Otherwise that transaction's pending offsets would block our own offset fetches for
      // the tasks we get back (UNSTABLE_OFFSET_COMMIT) until the broker times it out.
      if (config.guarantee.exactlyOnce) await running.producer.beginTransaction()
      await running.member.join()
      this.#reporter = startScalerReporter(config, {
        instanceId: config.groupInstanceId ?? this.processId,
        logger: this.#log,
        status: () => instanceStatus(running, config)
      })
      running.committer.scheduleNextCommit()
      this.#loop = runProcessingLoop(running, {
        metrics: this.#metrics.loop,
        stopping: () => this.#stopping,
        locked: (work) => this.#lock.run(running, work),
        // The guard logs when the doubt starts and ends.
        ownershipInDoubt: () => this.#guard.doubt() !== undefined,
        onRestoreStep: () => this.#runningIfRestored(running, false),
        commit: () => this.#commit(running),
        fail: (error) => this.#fail(error)
      })
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
    let timedOut = false
    const graceful = (async () => {
      await this.#loop
      // onRevoke(all owned, 'close') commits every task; then the member leaves (by default only if dynamic).
      await this.#running?.member.close({
        leave: this.config.leaveGroupOnClose ?? this.config.groupInstanceId === undefined
      })
    })()
    try {
      timedOut = !(await finishedWithin(graceful, timeoutMs))
      if (timedOut) this.#log.error({ timeoutMs }, 'graceful shutdown did not finish in time; closing connections')
    } catch (error) {
      this.#log.error({ err: error }, 'error during shutdown')
    } finally {
      // Tasks the member did not revoke (it failed, or a graceful step threw) close now, before the state directory.
      if (!timedOut) await this.#running?.committer.closeTasksUncommitted(this.#running?.tasks.taskIds ?? [])
      await this.#closeClients()
      // start() may have failed (ERROR) while this close was pending.
      if (this.state === 'ERROR') this.#lifecycle.transition('PENDING_SHUTDOWN')
      this.#lifecycle.transition('NOT_RUNNING')
      this.#log.info(this.progress(), 'closed')
    }
  }

  async #closeClients(): Promise<void> {
    await Promise.allSettled([this.#running?.close(), this.#httpServer?.close()])
  }

  /** Every commit, timed for streamlane_app_commit_duration_seconds. */
  async #commit(running: RunningApp, taskIds?: Iterable<string>): Promise<void> {
    const done = this.#metrics.commitTimer()
    try {
      await running.committer.commit(taskIds)
    } finally {
      done()
    }
  }

  /**
   * REBALANCING -> RUNNING once the assignment is applied and no assigned task is still restoring (as Kafka Streams
   * does): readiness must not be reported while a task cannot process yet. Called from onAssigned
   * (`assignmentApplied`) and after each restore step; a rebalance going on then will call it again from onAssigned.
   */
  #runningIfRestored(running: RunningApp, assignmentApplied: boolean): void {
    if (this.state !== 'REBALANCING' || this.#stopping) return
    if ((running.restorer?.restoringTasks ?? 0) > 0) return
    if (!assignmentApplied && (running.member.assignment === undefined || running.member.rebalanceInProgress)) return
    this.#lifecycle.transition('RUNNING')
  }

  async #fail(error: unknown): Promise<void> {
    if (this.#error || this.#stopping) return
    this.#error = error instanceof Error ? error : new Error(String(error))
    this.#log.error({ err: this.#error }, 'processing stopped on an error')
    this.#stopping = true
    if (this.state !== 'PENDING_SHUTDOWN' && this.state !== 'NOT_RUNNING') this.#lifecycle.transition('ERROR')
    this.#errorListeners.emit([this.#error])
  }
}

export type { OffsetToCommit }
