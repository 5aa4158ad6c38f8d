/**
 * The standby and warm-up tasks of this instance (Kafka Streams' StandbyTask): each keeps a copy of an active task's
 * stores on another process by reading the task's changelog partitions continuously and applying them, so that the
 * copy can take over with only a small tail left to restore. A standby never reads input, never processes, never
 * produces and never commits offsets: the only thing it writes is its own stores, with the changelog offset they
 * reached (one LMDB transaction per applied batch, so after a crash the copy is trusted exactly up to its checkpoint).
 * Under exactly-once its reader is read_committed, so it never applies aborted data.
 *
 * A warm-up task is a standby the assignor placed where it wants the active task to move; the runtime runs both the
 * same way and only reports, for warm-ups, whether they have caught up (see WarmupTracker).
 */
import { setImmediate } from 'node:timers/promises'
import type { TaskIdText } from '../assignment/index.ts'
import type { KafkaPartitionReader } from '../kafka/index.ts'
import { OFFSET_EARLIEST } from '../kafka/index.ts'
import type { Logger } from '../observe/index.ts'
import { type BytesBackend, type StateDirectory, TaskStateManager } from '../state/index.ts'
import { topicPartitionKey } from '../topic-partition.ts'
import { openStores, type StateStore, TaskId, type TopologyPlan } from '../topology/index.ts'

/** Records applied between two turns of the event loop (a few milliseconds of work, as for restoration). */
const APPLY_CHUNK_RECORDS = 4_000

interface StandbyTask {
  readonly id: TaskIdText
  readonly manager: TaskStateManager
  /** Changelog partitions of the task (partition = the task's partition). */
  readonly changelogs: readonly { topic: string; partition: number }[]
  /** The copy's stores by name, read by stale interactive queries. */
  readonly stores: ReadonlyMap<string, StateStore>
  warmup: boolean
  /** Records applied since the task was opened here. */
  applied: number
  /**
   * Records the reader has handed out (its position is past them) that are not applied yet: a step applies a batch
   * in chunks, with turns of the event loop between them, and a query in such a turn must not take the copy as level.
   */
  pending: number
  /** The first lag known after it opened: what warm-up progress is measured against. */
  startLag: bigint | undefined
  /**
   * The copy has been level with the end of its changelog since it opened here. Before that it may miss whole keys or
   * windows (a compacted changelog read from an older position has not reached their latest records yet); after, it
   * is the active task's committed state of `lag` records ago.
   */
  caughtUp: boolean
}

export interface StandbyTasksOptions {
  applicationId: string
  plan: TopologyPlan
  stateDir: StateDirectory
  /** A reader of its own: read_committed under exactly-once, keeping record bytes (the stores hold on to them). */
  reader: KafkaPartitionReader
  /** How often the standbys' checkpoint files are brought up to date (the app's commit interval, at least 5 s). */
  commitIntervalMs: number
  logger: Logger
}

/** What a task kind does right now, for logs, metrics and the status view. */
export interface StandbyTaskStatus {
  taskId: string
  kind: 'standby' | 'warmup'
  /** Changelog records behind the end (as of the reader's last fetch); undefined until each partition is fetched. */
  lag: bigint | undefined
  applied: number
}

export class StandbyTasks {
  readonly #o: StandbyTasksOptions
  readonly #tasks = new Map<TaskIdText, StandbyTask>()
  /** Changelog partition key -> its standby task. */
  readonly #byPartition = new Map<string, StandbyTask>()
  #nextCheckpointAt = 0
  /** Milliseconds spent applying changelog records: busy time for the true-rate report. */
  busyMs = 0
  /** Changelog records applied by standbys since start. */
  appliedTotal = 0

  constructor(options: StandbyTasksOptions) {
    this.#o = options
  }

  get taskIds(): TaskIdText[] {
    return [...this.#tasks.keys()]
  }

  has(taskId: string): boolean {
    return this.#tasks.has(taskId as TaskIdText)
  }

  /**
   * A store of the copy held here for `taskId`, its changelog lag and whether it has caught up since it opened, for
   * stale queries; undefined when none.
   */
  storeOf(
    taskId: string,
    store: string
  ): { store: StateStore; lag: bigint | undefined; caughtUp: boolean } | undefined {
    const task = this.#tasks.get(taskId as TaskIdText)
    const found = task?.stores.get(store)
    if (!task || !found) return undefined
    const lag = this.#lagOf(task)
    return { store: found, lag, caughtUp: task.caughtUp }
  }

  /** Standby tasks (not warm-ups) and warm-up tasks held here. */
  counts(): { standby: number; warmup: number } {
    let warmup = 0
    for (const task of this.#tasks.values()) if (task.warmup) warmup++
    return { standby: this.#tasks.size - warmup, warmup }
  }

  /**
   * Makes the held standbys exactly `standby` and `warmup` (disjoint sets of task ids): closes those no longer
   * wanted (cleanly: their state stays on disk for `stateCleanupDelayMs`, a returning task uses it), opens the new
   * ones from their checkpoints. Call `release` first for tasks that become active here.
   */
  async assign(
    standby: ReadonlySet<TaskIdText>,
    warmup: ReadonlySet<TaskIdText>
  ): Promise<{ opened: TaskIdText[]; closed: TaskIdText[] }> {
    const wanted = new Set([...standby, ...warmup])
    const closed = [...this.#tasks.keys()].filter((id) => !wanted.has(id))
    await this.release(closed)
    const opened: TaskIdText[] = []
    const toRead = []
    for (const id of wanted) {
      const existing = this.#tasks.get(id)
      if (existing) {
        existing.warmup = warmup.has(id)
        continue
      }
      let task: StandbyTask | undefined
      try {
        task = await this.#open(id, warmup.has(id))
      } catch (error) {
        // A copy is an optimisation: one that cannot open (its directory still leased, a store that fails) must not
        // stop the app. The next assignment tries again.
        this.#o.logger.warn({ err: error, task: id }, 'standby task could not open; skipped until the next assignment')
        continue
      }
      if (!task) continue
      opened.push(id)
      for (const { topic, partition, checkpointOffset } of task.manager.changelogPartitions()) {
        toRead.push({ topic, partition, offset: checkpointOffset ?? OFFSET_EARLIEST })
      }
    }
    if (toRead.length > 0) await this.#o.reader.assign(toRead)
    return { opened, closed }
  }

  /**
   * Closes standbys (their stores write their checkpoint file) before the tasks become active on this instance, or
   * when they are no longer assigned here. `clean: false` when the member lost its tasks: no checkpoint file is
   * written; LMDB keeps only what was applied together with its offset.
   */
  /**
   * Closes the standbys of `ids`. With `handOver` (a promotion), the data of their in-memory stores is returned by
   * task and store name instead of dropped, for the active task to go on from (persistent stores stay on disk).
   */
  async release(
    ids: Iterable<TaskIdText>,
    { clean = true, handOver = false }: { clean?: boolean; handOver?: boolean } = {}
  ): Promise<Map<TaskIdText, Map<string, BytesBackend>>> {
    const handed = new Map<TaskIdText, Map<string, BytesBackend>>()
    for (const id of ids) {
      const task = this.#tasks.get(id)
      if (!task) continue
      this.#tasks.delete(id)
      this.#o.reader.unassign([...task.changelogs])
      for (const tp of task.changelogs) this.#byPartition.delete(topicPartitionKey(tp.topic, tp.partition))
      if (handOver && clean) {
        const memory = task.manager.handOverMemoryStores()
        if (memory.size > 0) handed.set(id, memory)
      }
      try {
        await task.manager.close({ clean })
      } catch (error) {
        this.#o.logger.warn({ err: error, task: id }, 'standby task did not close cleanly')
      }
    }
    return handed
  }

  async closeAll(options: { clean?: boolean } = {}): Promise<void> {
    await this.release([...this.#tasks.keys()], options)
  }

  /**
   * Reads one batch of changelog records, if any is there, and applies it; the checkpoint files follow on the
   * commit interval. Returns the records applied. Never waits for records: active work comes first.
   */
  async step(): Promise<number> {
    if (this.#tasks.size === 0) return 0
    const records = await this.#o.reader.poll(0)
    for (const record of records) {
      const task = this.#byPartition.get(topicPartitionKey(record.topic, record.partition))
      if (task) task.pending++
    }
    const started = Date.now()
    let applied = 0
    let batch: { key: Buffer; value: Buffer | null; timestamp: number; offset: bigint }[] = []
    let current: StandbyTask | undefined
    let currentTopic = ''
    const flush = () => {
      if (current && batch.length > 0) {
        current.manager.restore(currentTopic, batch)
        current.applied += batch.length
        current.pending -= batch.length
        applied += batch.length
      }
      batch = []
    }
    for (const record of records) {
      const task = this.#byPartition.get(topicPartitionKey(record.topic, record.partition))
      if (task !== current || record.topic !== currentTopic) {
        flush()
        current = task
        currentTopic = record.topic
      }
      if (!task) continue
      if (record.key === null) {
        task.pending--
        continue
      }
      batch.push({ key: record.key, value: record.value, timestamp: record.timestamp, offset: record.offset })
      if (batch.length >= APPLY_CHUNK_RECORDS) {
        flush()
        // Probes and /metrics are answered between chunks, as during restoration.
        await setImmediate()
      }
    }
    flush()
    // A task released during a turn of this step takes its count with it; the others have applied all they were given.
    for (const task of this.#tasks.values()) task.pending = 0
    if (records.length > 0) this.busyMs += Date.now() - started
    // Each copy's lag after the batch: a copy that reaches the end is marked caught up (stale queries read it whole).
    for (const task of this.#tasks.values()) if (!task.caughtUp) this.#lagOf(task)
    this.appliedTotal += applied
    this.#maybeCheckpoint()
    return applied
  }

  /**
   * Changelog records each held task is behind the end of its changelog partitions, as of the reader's last fetch
   * (undefined for a task with a partition not fetched yet).
   */
  lags(): Map<string, bigint | undefined> {
    const lags = new Map<string, bigint | undefined>()
    for (const task of this.#tasks.values()) lags.set(task.id, this.#lagOf(task))
    return lags
  }

  status(): StandbyTaskStatus[] {
    return [...this.#tasks.values()].map((task) => ({
      taskId: task.id,
      kind: task.warmup ? 'warmup' : 'standby',
      lag: this.#lagOf(task),
      applied: task.applied
    }))
  }

  /** Warm-up tasks held here, with their lags. */
  warmupLags(): Map<string, bigint | undefined> {
    const lags = new Map<string, bigint | undefined>()
    for (const task of this.#tasks.values()) if (task.warmup) lags.set(task.id, this.#lagOf(task))
    return lags
  }

  /**
   * How far each warm-up has caught up, 0..1, for the autoscaler (which holds scale-in while warm-ups are under
   * way): 1 within `acceptableRecoveryLag`, else the share of its starting lag it has worked off.
   */
  warmupProgress(acceptableRecoveryLag: bigint): { task: string; progress: number }[] {
    const progress: { task: string; progress: number }[] = []
    for (const task of this.#tasks.values()) {
      if (!task.warmup) continue
      const lag = this.#lagOf(task)
      if (lag === undefined || task.startLag === undefined) progress.push({ task: task.id, progress: 0 })
      else if (lag <= acceptableRecoveryLag || task.startLag === 0n) progress.push({ task: task.id, progress: 1 })
      else progress.push({ task: task.id, progress: Math.max(0, 1 - Number(lag) / Number(task.startLag)) })
    }
    return progress
  }

  /** Changelog records the held standbys and warm-ups are behind in all (those with a known lag). */
  totalLag(): number {
    let total = 0
    for (const lag of this.lags().values()) if (lag !== undefined) total += Number(lag)
    return total
  }

  #lagOf(task: StandbyTask): bigint | undefined {
    let lag = BigInt(task.pending)
    for (const { topic, partition } of task.changelogs) {
      const end = this.#o.reader.endOffset(topic, partition)
      const position = this.#o.reader.position(topic, partition)
      if (end === undefined || position === undefined) return undefined
      if (end > position) lag += end - position
    }
    task.startLag ??= lag
    if (lag === 0n) task.caughtUp = true
    return lag
  }

  /** Brings the checkpoint files up to date (what other instances' lags and a restart are computed from). */
  #maybeCheckpoint(): void {
    if (Date.now() < this.#nextCheckpointAt) return
    // Not on every 100 ms exactly-once commit: each write is an fsync, and the stores are durable without it.
    this.#nextCheckpointAt = Date.now() + Math.max(this.#o.commitIntervalMs, 5_000)
    for (const task of this.#tasks.values()) task.manager.writeCheckpointFile()
  }

  async #open(id: TaskIdText, warmup: boolean): Promise<StandbyTask | undefined> {
    const taskId = TaskId.parse(id)
    const subtopology = this.#o.plan.subtopologies.find((sub) => sub.id === taskId.subtopology)
    if (!subtopology || subtopology.stores.length === 0) return undefined
    const lease = await this.#o.stateDir.prepareTask(id)
    const manager = new TaskStateManager({
      applicationId: this.#o.applicationId,
      taskId,
      lease,
      // Standbys never write to Kafka: no changelog sink, and no record cache (nothing is processed).
      changelogSink: null,
      cacheMaxBytes: 0,
      logger: this.#o.logger
    })
    let stores: Map<string, StateStore>
    try {
      stores = openStores(this.#o.plan, subtopology, taskId, (builder) => manager.createStore(builder))
    } catch (error) {
      await manager.close({ clean: false })
      throw error
    }
    const changelogs = manager.changelogPartitions().map(({ topic, partition }) => ({ topic, partition }))
    const task: StandbyTask = {
      id,
      manager,
      changelogs,
      stores,
      warmup,
      applied: 0,
      pending: 0,
      startLag: undefined,
      caughtUp: false
    }
    this.#tasks.set(id, task)
    for (const tp of changelogs) this.#byPartition.set(topicPartitionKey(tp.topic, tp.partition), task)
    return task
  }
}
