/**
 * The collaborators of a started StreamlaneApp, built in one place: admin, readers, producer and record collector,
 * task manager, group member, task lifecycle, committer and, for an app with state, state directory and restorer.
 * Every field is set once it exists, so the app's loop and rebalance callbacks work on a complete object.
 *
 * What the app does with them (the loop, what a rebalance means for its tasks, its state) stays StreamlaneApp's: it
 * comes in as hooks, each handed the RunningApp.
 */
import { type AssignmentChange, GroupMember, type RevokeContext, type TopicPartitions } from '../kafka/group/index.ts'
import {
  createAdmin,
  createPartitionReader,
  createProducer,
  type KafkaAdmin,
  type KafkaConnectionSecurity,
  type KafkaPartitionReader,
  type KafkaProducer
} from '../kafka/index.ts'
import type { Logger } from '../observe/index.ts'
import { RestoreWriteThread, StateDirectory, type StoreMetering } from '../state/index.ts'
import type { ErrorHandlerConfig, TopologyPlan } from '../topology/index.ts'
import { TaskLifecycle } from './active-task-lifecycle.ts'
import { Committer } from './committer.ts'
import type { StreamsConfig } from './config.ts'
import { GlobalStateUpdater } from './global-state-updater.ts'
import { streamlaneAssignor, subscriptionUserData } from './group-protocol.ts'
import { keyOrderedConcurrency } from './key-ordered-records.ts'
import { memberSettings } from './member-settings.ts'
import type { MembershipGuard } from './membership-guard.ts'
import { ProducerRecordCollector } from './producer-collector.ts'
import { productionFailureHandler } from './production-failure-handler.ts'
import { StandbyLifecycle } from './standby-lifecycle.ts'
import { StandbyTasks } from './standby-tasks.ts'
import { StateRestorer, type TaskRestoreProgress } from './state-restorer.ts'
import { changelogEndOffsetSums, localTaskLags } from './task-lags.ts'
import { TaskManager } from './task-manager.ts'
import { prepareTopics } from './topic-setup.ts'

/** What the app decides; each hook that runs once the app is connected gets the RunningApp. */
export interface RunningAppHooks {
  /** Whether this instance is shutting down (told to the assignor in the subscription). */
  draining(): boolean
  onAssigned(running: RunningApp, change: AssignmentChange): Promise<void>
  /** Partitions revoked (`context.reason` says why: rebalance, close, or lost). */
  onRevoke(running: RunningApp, partitions: TopicPartitions[], context: RevokeContext): Promise<void>
  onRebalance(reason: unknown): void
  onFailed(error: Error): void
  onRestoreProgress(progress: TaskRestoreProgress): void
}

export interface RunningAppOptions {
  config: StreamsConfig
  plan: TopologyPlan
  /** TLS and SASL options of every Kafka connection; holds secrets, never logged. */
  security: KafkaConnectionSecurity
  statefulSubtopologies: Set<number>
  /** The process id when the app has no state directory to keep a stable one in. */
  processId: string
  errorHandlers: ErrorHandlerConfig | undefined
  /** Whether the member may still write for its tasks; the producer, collector and committer hold writes while not. */
  guard: MembershipGuard
  logger: Logger
  hooks: RunningAppHooks
  /** Sampled store operation timings for the active tasks (the app's metrics). */
  storeMetering?: StoreMetering
}

/** The source topics of each subtopology and the partition count of every topic, as checked at start. */
export interface TopicLayout {
  readonly sourceTopics: ReadonlyMap<number, readonly string[]>
  readonly partitionCounts: Map<string, number>
}

export class RunningApp {
  /** Stable across restarts when the app has state (kept in the state directory), so the assignor can find it. */
  readonly processId: string
  readonly topicLayout: TopicLayout
  readonly admin: KafkaAdmin
  readonly reader: KafkaPartitionReader
  readonly collector: ProducerRecordCollector
  readonly tasks: TaskManager
  readonly member: GroupMember
  readonly taskLifecycle: TaskLifecycle
  readonly committer: Committer
  /** Only for an app with state. */
  readonly stateDir: StateDirectory | undefined
  readonly restorer: StateRestorer | undefined
  readonly restoreReader: KafkaPartitionReader | undefined
  /** Only when the topology has GlobalKTables. */
  readonly globalState: GlobalStateUpdater | undefined
  /** Standby and warm-up tasks; only for an app with state. */
  readonly replicas: StandbyLifecycle | undefined
  readonly standbyReader: KafkaPartitionReader | undefined
  /** Replaced by a new one (a new epoch) after a fencing. */
  #producer: KafkaProducer
  readonly #newProducer: () => KafkaProducer

  constructor(parts: {
    processId: string
    topicLayout: TopicLayout
    admin: KafkaAdmin
    reader: KafkaPartitionReader
    producer: KafkaProducer
    newProducer: () => KafkaProducer
    collector: ProducerRecordCollector
    tasks: TaskManager
    member: GroupMember
    taskLifecycle: TaskLifecycle
    committer: Committer
    stateDir: StateDirectory | undefined
    restorer: StateRestorer | undefined
    restoreReader: KafkaPartitionReader | undefined
    globalState: GlobalStateUpdater | undefined
    replicas: StandbyLifecycle | undefined
    standbyReader: KafkaPartitionReader | undefined
  }) {
    this.processId = parts.processId
    this.topicLayout = parts.topicLayout
    this.admin = parts.admin
    this.reader = parts.reader
    this.#producer = parts.producer
    this.#newProducer = parts.newProducer
    this.collector = parts.collector
    this.tasks = parts.tasks
    this.member = parts.member
    this.taskLifecycle = parts.taskLifecycle
    this.committer = parts.committer
    this.stateDir = parts.stateDir
    this.restorer = parts.restorer
    this.restoreReader = parts.restoreReader
    this.globalState = parts.globalState
    this.replicas = parts.replicas
    this.standbyReader = parts.standbyReader
  }

  get producer(): KafkaProducer {
    return this.#producer
  }

  /** A new producer (a new epoch) in place of a fenced one; the collector drops what the fenced one had not written. */
  async replaceProducer(): Promise<void> {
    const fencedProducer = this.#producer
    this.#producer = this.#newProducer()
    await this.collector.replaceProducer(this.#producer)
    await fencedProducer.close()
  }

  /** Closes the standbys, every Kafka client, then the state directory. */
  async close(): Promise<void> {
    try {
      await this.replicas?.close()
    } finally {
      await closeClients(this)
    }
  }
}

type Closable = { close(): Promise<void> | void } | undefined

async function closeClients(clients: {
  reader?: Closable
  restoreReader?: Closable
  restorer?: Closable
  standbyReader?: Closable
  producer?: Closable
  admin?: Closable
  stateDir?: Closable
  globalState?: Closable
}): Promise<void> {
  const { reader, restoreReader, restorer, standbyReader, producer, admin, stateDir, globalState } = clients
  await Promise.allSettled([
    reader?.close(),
    restoreReader?.close(),
    restorer?.close(),
    standbyReader?.close(),
    producer?.close(),
    admin?.close(),
    globalState?.close()
  ])
  stateDir?.close()
}

/**
 * Checks and creates the topics, then builds every collaborator of a running app; the group is not joined yet.
 * If a step fails, what was already opened is closed before the error is thrown.
 */
export async function connectRunningApp(options: RunningAppOptions): Promise<RunningApp> {
  const { config, plan, security, statefulSubtopologies, guard, logger: log, hooks } = options
  const connection = {
    brokers: config.bootstrapServers,
    clientId: config.clientId,
    connectTimeoutMs: config.connectTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    ...security
  }
  const { isolation, exactlyOnce } = config.guarantee
  // A topology key-ordered mode cannot run is refused before any connection.
  const maxConcurrencyPerTask = keyOrderedConcurrency(config, plan)
  const opened: Parameters<typeof closeClients>[0] = {}
  try {
    const admin = createAdmin(connection)
    opened.admin = admin
    const { partitionPlan, partitionCounts } = await prepareTopics(admin, plan, config.replicationFactor)
    // Global stores are filled before the group is joined, so before any task processes.
    const globalState =
      plan.globalStores.size === 0
        ? undefined
        : await GlobalStateUpdater.start({
            plan,
            admin,
            reader: createPartitionReader({ ...connection, isolation, offsetReset: 'earliest', copyBuffers: true }),
            isolation,
            logger: log,
            onFailed: (error) => hooks.onFailed(error)
          })
    opened.globalState = globalState
    let processId = options.processId
    let stateDir: StateDirectory | undefined
    let restorer: StateRestorer | undefined
    let restoreReader: KafkaPartitionReader | undefined
    let standbyReader: KafkaPartitionReader | undefined
    if (statefulSubtopologies.size > 0) {
      stateDir = StateDirectory.open({
        stateDir: config.stateDir,
        applicationId: config.applicationId,
        stateCleanupDelayMs: config.stateCleanupDelayMs,
        logger: log
      })
      opened.stateDir = stateDir
      processId = stateDir.processId
      // Restoration reads large batches. Their bytes stay views into the fetch responses: a batch is written into
      // its store right away and dropped (LMDB copies into its file; an in-memory store copies what it keeps, see
      // LayeredStore.restoreBatch), and copying each key and value here cost a third of the reader's speed.
      restoreReader = createPartitionReader({
        ...connection,
        isolation,
        offsetReset: 'earliest',
        maxPollRecords: 50_000
      })
      opened.restoreReader = restoreReader
      restorer = new StateRestorer(restoreReader, admin, new RestoreWriteThread())
      opened.restorer = restorer
      restorer.onPlan = (task, changelogs) => log.info({ task, changelogs }, 'restore plan')
      restorer.onProgress = (progress) => hooks.onRestoreProgress(progress)
      // Standbys read changelogs as restoration does (read_committed under exactly-once), in smaller batches: they
      // share the loop with active tasks, which come first.
      standbyReader = createPartitionReader({
        ...connection,
        isolation,
        offsetReset: 'earliest',
        copyBuffers: true,
        maxPollRecords: 20_000
      })
      opened.standbyReader = standbyReader
    }
    const newProducer = () =>
      createProducer({
        ...connection,
        idempotent: true,
        deliveryTimeoutMs: config.deliveryTimeoutMs,
        transactionTimeoutMs: config.transactionTimeoutMs,
        // Records produced before a pause (SIGSTOP, GC) must not go out after it if the tasks may be someone else's now.
        holdWhile: () => guard.doubt() !== undefined,
        // One transactional producer per process, stable across restarts when the member is static.
        transactionalId: exactlyOnce ? `${config.applicationId}-${config.groupInstanceId ?? processId}` : undefined
      })
    const producer = newProducer()
    opened.producer = producer
    if (exactlyOnce) log.info({ transactionalId: producer.transactionalId }, 'exactly-once producer created')
    const reader = createPartitionReader({ ...connection, isolation, offsetReset: 'earliest' })
    opened.reader = reader
    // The collector and the task manager refer to each other through the production failure handler.
    const collector: ProducerRecordCollector = new ProducerRecordCollector(
      producer,
      partitionCounts,
      productionFailureHandler({
        handler: options.errorHandlers?.production,
        changelogTopics: plan.changelogTopics,
        countSkip: (deadLettered) => tasks.countProductionSkip(deadLettered),
        send: (record, origin) => collector.send(record, origin),
        logger: log
      }),
      () => guard.doubt() !== undefined
    )
    for (const topic of plan.changelogTopics.keys()) collector.trackAcknowledgedOffsets(topic)
    const tasks = new TaskManager({
      plan,
      sourceTopics: partitionPlan.sourceTopics,
      collector,
      errorHandlers: options.errorHandlers,
      maxBufferedPerPartition: config.maxBufferedRecordsPerPartition,
      maxInFlight: config.maxRecordsInFlight,
      maxConcurrencyPerTask,
      exactlyOnce,
      mayStart: () => guard.doubt() === undefined,
      logger: log,
      globalStores: globalState?.stores
    })
    // The member's callbacks run only once it joins, after `running` below exists.
    const member = new GroupMember({
      ...connection,
      ...memberSettings(config),
      topics: [...new Set([...partitionPlan.sourceTopics.values()].flat())],
      assign: streamlaneAssignor({
        sourceTopics: partitionPlan.sourceTopics,
        statefulSubtopologies,
        config,
        onAssignment: (outcome) => {
          if (outcome.error) log.error({ err: outcome.error }, 'assignment failed')
          for (const line of outcome.result?.log ?? []) log.debug(line)
        },
        changelogEndOffsets: (taskIds) => changelogEndOffsetSums({ plan, admin, taskIds, logger: log })
      }),
      userData: async () =>
        subscriptionUserData({
          processId,
          endpoint: config.applicationServer,
          ownedActive: tasks.taskIds,
          ownedStandby: replicas?.standbys.taskIds,
          taskLags: stateDir
            ? await localTaskLags({
                plan,
                stateDir,
                admin,
                activeTaskIds: tasks.taskIds,
                standbyLags: replicas?.standbys.lags() ?? new Map(),
                logger: log
              })
            : undefined,
          draining: hooks.draining()
        }),
      onAssigned: (change) => hooks.onAssigned(running, change),
      onRevoke: (partitions, context) => hooks.onRevoke(running, partitions, context),
      onLost: (partitions, context) => hooks.onRevoke(running, partitions, context)
    })
    const replicas =
      stateDir && standbyReader
        ? new StandbyLifecycle({
            standbys: new StandbyTasks({
              applicationId: config.applicationId,
              plan,
              stateDir,
              reader: standbyReader,
              commitIntervalMs: config.commitIntervalMs,
              logger: log
            }),
            group: member,
            logger: log
          })
        : undefined
    member.on('rebalance', (reason) => hooks.onRebalance(reason))
    member.on('heartbeat', (_generation, sentAtMs) => guard.confirmed(sentAtMs))
    // The warning's message already names its cause (`heartbeat ... failed: <Kafka error>`); pino's err serializer would
    // repeat the cause in the message and again in the stack, three times per failed heartbeat during an outage.
    member.on('warning', (error) => log.warn({ code: (error as { code?: string }).code }, error.message))
    member.on('failed', (error) => hooks.onFailed(error))
    const taskLifecycle = new TaskLifecycle({
      applicationId: config.applicationId,
      cacheMaxBytes: config.cacheMaxBytes,
      tasks,
      reader,
      group: member,
      collector,
      statefulSubtopologies,
      stateDir,
      restorer,
      // A promoted standby's in-memory stores: the active task goes on from their data, not from the beginning.
      memoryStoresOf: (taskId) => replicas?.takeMemoryStores(taskId),
      logger: log,
      storeMetering: options.storeMetering
    })
    const committer = new Committer({
      applicationId: config.applicationId,
      commitIntervalMs: config.commitIntervalMs,
      exactlyOnce,
      tasks,
      collector,
      group: member,
      producer: () => running.producer,
      replaceProducer: () => running.replaceProducer(),
      taskLifecycle,
      stateDir,
      guard,
      logger: log
    })
    const running: RunningApp = new RunningApp({
      processId,
      topicLayout: { sourceTopics: partitionPlan.sourceTopics, partitionCounts },
      admin,
      reader,
      producer,
      newProducer,
      collector,
      tasks,
      member,
      taskLifecycle,
      committer,
      stateDir,
      restorer,
      restoreReader,
      globalState,
      replicas,
      standbyReader
    })
    return running
  } catch (error) {
    await closeClients(opened)
    throw error
  }
}
