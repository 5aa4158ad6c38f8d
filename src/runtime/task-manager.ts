/**
 * The active tasks of one instance: which partition feeds which task, running them, back-pressure, and what offsets
 * are safe to commit. No I/O of its own; the app drives it with fetched records and commits what it reports.
 *
 * Offsets are `bigint` here as in the Kafka layer and the state checkpoints (Kafka's offsets are int64). The processor
 * graph alone speaks `number` (the Processor API's record metadata): `toRawRecord` and `consumedOffsetsOf` are the
 * two places that convert.
 */
import type { ConsumedRecord, TopicPartition, TopicPartitionOffset } from '../kafka/index.ts'
import { Headers } from '../serde/index.ts'
import type { TaskStateManager } from '../state/index.ts'
import type { TaskIdText } from '../task-id.ts'
import { topicPartitionKey } from '../topic-partition.ts'
import type { ErrorHandlerConfig, RawRecord, RecordCollector, StateStore, TopologyPlan } from '../topology/index.ts'
import {
  addTaskCounters,
  newTaskCounters,
  type TaskCounters,
  TaskId,
  TaskProcessorGraph,
  type TaskProcessorGraphOptions
} from '../topology/index.ts'
import { KeyOrderedTaskRecords } from './key-ordered-records.ts'
import { RecordScheduler } from './record-scheduler.ts'

/**
 * The next offset to read of an input partition (last processed + 1), as the group commits it, with the task's
 * partition time and processor metadata in Kafka Streams' format (committed-metadata.ts).
 */
export interface OffsetToCommit extends TopicPartitionOffset {
  metadata?: string
}

export interface ActiveTask {
  readonly id: TaskId
  readonly graph: TaskProcessorGraph
  readonly partitions: readonly TopicPartition[]
  /** Next offset per partition at the last successful commit, to commit only what moved. */
  readonly committed: Map<string, bigint>
  /** The task's stores; absent for stateless tasks. */
  readonly state: TaskStateManager | undefined
  /** A restoring task buffers its input but processes nothing until its stores have caught up. */
  restoring: boolean
  /** Closed: a record still in flight for it writes nothing more (its collector drops what it sends). */
  closed: boolean
  /** Key-ordered mode: the task's buffered records and which may start (the graph's own buffers stay empty). */
  readonly keyOrdered: KeyOrderedTaskRecords | undefined
}

export interface TaskManagerOptions {
  plan: TopologyPlan
  /** Source topics per sub-topology, pattern matches included (from `planPartitions`). */
  sourceTopics: ReadonlyMap<number, readonly string[]>
  collector: RecordCollector
  errorHandlers?: ErrorHandlerConfig
  maxBufferedPerPartition: number
  /** Asynchronous records (and punctuators) in flight at most over all tasks; each task runs one at a time. */
  maxInFlight?: number
  /**
   * Records of one task in flight at most, of different keys (`processingOrder: 'key'`); 1 (default): one record at
   * a time per task. The topology must pass `checkKeyOrderedTopology`.
   */
  maxConcurrencyPerTask?: number
  /** Exactly-once: a commit waits for every task to be idle (a transaction holds only finished records). */
  exactlyOnce?: boolean
  /** Whether records may start now (the member still owns its tasks); asked before each one. */
  mayStart?: () => boolean
  logger?: TaskProcessorGraphOptions['logger']
  /** The process's global stores, shared by every task (GlobalKTables). */
  globalStores?: TaskProcessorGraphOptions['globalStores']
}

/** A record as the Kafka layer read it, as the processor graph takes it (offsets as numbers). */
export function toRawRecord(record: ConsumedRecord): RawRecord {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: Number(record.offset),
    timestamp: record.timestamp,
    key: record.key,
    value: record.value,
    headers: record.headers.length === 0 ? Headers.empty : Headers.from(record.headers)
  }
}

/** The next offset to consume of each partition the task's graph processed records of, by partition key. */
function consumedOffsetsOf(graph: TaskProcessorGraph): Map<string, OffsetToCommit> {
  const consumed = new Map<string, OffsetToCommit>()
  for (const { topic, partition, offset } of graph.consumedOffsets())
    consumed.set(topicPartitionKey(topic, partition), { topic, partition, offset: BigInt(offset) })
  return consumed
}

/**
 * Key-ordered mode: per partition, the offset of its lowest unfinished record (never past one), or the reader's
 * position when nothing of it is buffered or in flight and that is ahead. Only offsets that moved.
 */
function keyOrderedOffsets(
  task: ActiveTask,
  records: KeyOrderedTaskRecords,
  drainedPosition: (topic: string, partition: number) => bigint | undefined
): OffsetToCommit[] {
  const offsets: OffsetToCommit[] = []
  for (const { topic, partition } of task.partitions) {
    const k = topicPartitionKey(topic, partition)
    const committed = task.committed.get(k)
    let next = records.queue.committable(topic, partition)
    if (records.queue.isDrained(topic, partition)) {
      const position = drainedPosition(topic, partition)
      const processed = next ?? committed ?? -1n
      if (position !== undefined && position > processed) next = position
    }
    if (next !== undefined && next !== committed) {
      offsets.push({ topic, partition, offset: next, metadata: task.graph.committedMetadata(topic, partition) })
    }
  }
  return offsets
}

export class TaskManager {
  readonly #options: TaskManagerOptions
  readonly #subtopologyByTopic = new Map<string, number>()
  readonly #tasks = new Map<string, ActiveTask>()
  /** Partition key -> the task it feeds. */
  readonly #taskByPartition = new Map<string, ActiveTask>()
  readonly #paused = new Set<string>()
  /** Counters of closed tasks and of outcomes handled outside any task, so metric totals never go down. */
  readonly #retired: TaskCounters = newTaskCounters()
  /** Cache reads of closed tasks' stores, by store, for the same reason. */
  readonly retiredCacheReads = new Map<string, { hits: number; misses: number }>()
  readonly #scheduler: RecordScheduler<ActiveTask>
  /** A commit is wanted but waits for tasks to finish their records in flight. */
  #commitWaiting = false

  constructor(options: TaskManagerOptions) {
    this.#options = options
    this.#scheduler = new RecordScheduler({ maxInFlight: options.maxInFlight ?? 100, mayStart: options.mayStart })
    for (const [subtopology, topics] of options.sourceTopics) {
      for (const topic of topics) this.#subtopologyByTopic.set(topic, subtopology)
    }
  }

  /** The task a partition belongs to: the sub-topology that reads the topic, at the partition's number. */
  taskOf(topic: string, partition: number): TaskId | undefined {
    const subtopology = this.#subtopologyByTopic.get(topic)
    return subtopology === undefined ? undefined : new TaskId(subtopology, partition)
  }

  /** Tasks for a set of partitions, each with all of its partitions that are in the set. */
  groupByTask(partitions: readonly TopicPartition[]): Map<string, TopicPartition[]> {
    const byTask = new Map<string, TopicPartition[]>()
    for (const tp of partitions) {
      const id = this.taskOf(tp.topic, tp.partition)
      if (!id) continue
      const list = byTask.get(id.toString()) ?? []
      list.push(tp)
      byTask.set(id.toString(), list)
    }
    return byTask
  }

  get taskIds(): TaskIdText[] {
    return [...this.#tasks.values()].map((task) => task.id.toString())
  }

  has(taskId: string): boolean {
    return this.#tasks.has(taskId)
  }

  /**
   * Creates and initialises a task; `committed` are the group's committed offsets of its partitions and
   * `committedMetadata` what was committed with them (partition times, processor metadata), both by partition key. A
   * stateful task opens its stores through `state` and starts out restoring.
   */
  createTask(
    id: TaskId,
    partitions: readonly TopicPartition[],
    committed: ReadonlyMap<string, bigint>,
    state?: TaskStateManager,
    committedMetadata: ReadonlyMap<string, string | null> = new Map()
  ): TaskProcessorGraph {
    let task: ActiveTask | undefined
    const collector = this.#options.collector
    const concurrency = this.#options.maxConcurrencyPerTask ?? 1
    const graph = new TaskProcessorGraph({
      plan: this.#options.plan,
      taskId: id,
      // A record still in flight when its task closed (lost, revoked past the wait, failed) writes nothing.
      collector: {
        send: (record, origin) => {
          if (!task?.closed) collector.send(record, origin)
        },
        partitionCount: (topic) => collector.partitionCount(topic)
      },
      inputTopics: this.#options.sourceTopics.get(id.subtopology) ?? [],
      errorHandlers: this.#options.errorHandlers,
      logger: this.#options.logger,
      createStore: state ? (builder) => state.createStore(builder) : undefined,
      globalStores: this.#options.globalStores,
      concurrentRecords: concurrency > 1
    })
    for (const { topic, partition } of partitions) {
      graph.startFromCommitted(topic, partition, committedMetadata.get(topicPartitionKey(topic, partition)))
    }
    graph.init()
    task = {
      id,
      graph,
      partitions,
      committed: new Map(committed),
      state,
      restoring: state !== undefined,
      closed: false,
      keyOrdered: concurrency > 1 ? new KeyOrderedTaskRecords(graph, concurrency, toRawRecord) : undefined
    }
    this.#tasks.set(id.toString(), task)
    this.#scheduler.add(task)
    for (const tp of partitions) this.#taskByPartition.set(topicPartitionKey(tp.topic, tp.partition), task)
    return graph
  }

  /** The task's stores are restored: it may process from now on. */
  markRestored(taskId: string): void {
    const task = this.#tasks.get(taskId)
    if (task) task.restoring = false
  }

  /** The task's stores, if it has any. */
  stateOf(taskId: string): TaskStateManager | undefined {
    return this.#tasks.get(taskId)?.state
  }

  /**
   * A store of an active task as its processors see it (record cache included), for interactive queries;
   * `restoring` while the task catches up with its changelog, undefined when the task is not here.
   */
  storeOf(taskId: string, store: string): StateStore | 'restoring' | undefined {
    const task = this.#tasks.get(taskId)
    if (!task) return undefined
    return task.restoring ? 'restoring' : task.graph.getStateStore(store)
  }

  isRestoring(taskId: string): boolean {
    return this.#tasks.get(taskId)?.restoring ?? false
  }

  /** Input partitions of a task, to pause while it restores. */
  partitionsOf(taskId: string): readonly TopicPartition[] {
    return this.#tasks.get(taskId)?.partitions ?? []
  }

  /**
   * Makes each stateful task's store writes durable together with the changelog offsets they reached. Call after
   * the changelog records were acknowledged; `ackedOffset` is the last acknowledged offset of a changelog partition.
   */
  commitState(ackedOffset: (topic: string, partition: number) => bigint | undefined, taskIds?: Iterable<string>): void {
    for (const id of taskIds ?? this.#tasks.keys()) {
      const task = this.#tasks.get(id)
      if (!task?.state || task.restoring) continue
      const offsets = new Map<string, bigint>()
      // A table's store may use its source topic as changelog: there the checkpoint is what the task consumed.
      const consumed = new Map([...consumedOffsetsOf(task.graph).values()].map((o) => [o.topic, o.offset]))
      for (const { topic, partition } of task.state.changelogPartitions()) {
        const acked = ackedOffset(topic, partition)
        if (acked !== undefined) offsets.set(topic, acked + 1n)
        else if (consumed.has(topic)) offsets.set(topic, consumed.get(topic)!)
      }
      task.state.commit(offsets)
    }
  }

  /**
   * Closes a task and forgets its partitions; its uncommitted progress is the caller's to commit first. `clean:
   * false` (task lost or failed) closes its stores without writing a checkpoint.
   */
  async closeTask(taskId: string, clean = true): Promise<void> {
    const task = this.#tasks.get(taskId)
    if (!task) return
    this.#tasks.delete(taskId)
    // A record in flight is abandoned: it finishes on its own, writes nothing, and is processed again by the owner.
    task.closed = true
    this.#scheduler.remove(task)
    for (const tp of task.partitions) {
      this.#taskByPartition.delete(topicPartitionKey(tp.topic, tp.partition))
      this.#paused.delete(topicPartitionKey(tp.topic, tp.partition))
    }
    try {
      await task.graph.close()
    } finally {
      addTaskCounters(this.#retired, task.graph.counters)
      for (const { store, hits, misses } of task.state?.cacheReads() ?? []) {
        const reads = this.retiredCacheReads.get(store) ?? { hits: 0, misses: 0 }
        reads.hits += hits
        reads.misses += misses
        this.retiredCacheReads.set(store, reads)
      }
      await task.state?.close({ clean })
    }
  }

  /** Buffers fetched records in their tasks; records of partitions no longer owned are dropped (re-read by the owner). */
  addRecords(records: readonly ConsumedRecord[]): void {
    let current: ActiveTask | undefined
    let currentKey = ''
    for (const record of records) {
      const k = topicPartitionKey(record.topic, record.partition)
      if (k !== currentKey) {
        current = this.#taskByPartition.get(k)
        currentKey = k
      }
      if (current?.keyOrdered) current.keyOrdered.queue.add(record)
      else current?.graph.addRecords([toRawRecord(record)])
    }
  }

  /** Milliseconds with records being processed (in flight or synchronous): the "busy time" of the DS2 true rate. */
  get busyMs(): number {
    return this.#scheduler.busyMs
  }

  /** Records processed since start, over every task this instance ever ran (abandoned records excluded). */
  get processedTotal(): number {
    return this.#scheduler.processed
  }

  /** Records in flight now and when the oldest started (what the autoscaler bounds a cold group's rate with). */
  get inFlight(): { records: number; oldestStartedAt: number } | undefined {
    return this.#scheduler.inFlight
  }

  /**
   * Processes buffered records, a slice per task per round in timestamp order within each task, until none can
   * start or the time budget is spent (so commits and rebalance callbacks are not starved). Records of asynchronous
   * processors are left in flight and go on by themselves, one per task, concurrently across tasks (see
   * RecordScheduler). Throws what failed in a record that finished outside this call. Returns the records processed
   * synchronously.
   */
  process(budgetMs: number): number {
    if (!this.#commitWaiting) this.#scheduler.release()
    return this.#scheduler.run(Date.now() + budgetMs)
  }

  /**
   * Wanting to commit: holds the tasks that must be idle for it (exactly-once: every task, since the transaction
   * holds everything written; at-least-once: tasks with stores, which flush at a record boundary) and says whether
   * they are idle now. While not, `commitWaiting` stays true and held tasks start nothing new.
   */
  holdForCommit(): boolean {
    const needIdle = [...this.#tasks.values()].filter((t) => this.#options.exactlyOnce || t.state !== undefined)
    this.#scheduler.hold(needIdle)
    this.#commitWaiting = needIdle.some((t) => this.#scheduler.isBusy(t))
    return !this.#commitWaiting
  }

  get commitWaiting(): boolean {
    return this.#commitWaiting
  }

  /** Whether the task has a record or punctuator in flight. */
  isBusy(taskId: string): boolean {
    const task = this.#tasks.get(taskId)
    return task !== undefined && this.#scheduler.isBusy(task)
  }

  /**
   * Stops starting records in the tasks and waits, at most `timeoutMs`, for those in flight to finish; returns the
   * ids of tasks still busy. The tasks stay held until the next `process()`.
   */
  async settle(taskIds: Iterable<string>, timeoutMs: number): Promise<string[]> {
    const tasks = [...taskIds].flatMap((id) => this.#tasks.get(id) ?? [])
    const busy = await this.#scheduler.settle(tasks, timeoutMs)
    return busy.map((task) => task.id.toString())
  }

  /** Fires due wall-clock punctuators of idle tasks (a busy task fires them once its record is done); true if any. */
  punctuate(nowMs: number): boolean {
    return this.#scheduler.punctuate(nowMs)
  }

  /** Partitions to pause (buffer full) and to resume (buffer drained below half). */
  backPressure(): { pause: TopicPartition[]; resume: TopicPartition[] } {
    const limit = this.#options.maxBufferedPerPartition
    const pause: TopicPartition[] = []
    const resume: TopicPartition[] = []
    for (const task of this.#tasks.values()) {
      const counts = task.keyOrdered ? task.keyOrdered.queue.bufferedCounts() : task.graph.bufferedCounts()
      for (const { topic, partition, count: buffered } of counts) {
        const k = topicPartitionKey(topic, partition)
        if (!this.#paused.has(k) && buffered >= limit) {
          this.#paused.add(k)
          pause.push({ topic, partition })
        } else if (this.#paused.has(k) && buffered <= limit / 2) {
          this.#paused.delete(k)
          resume.push({ topic, partition })
        }
      }
    }
    return { pause, resume }
  }

  /** Whether any processor asked for a commit since the last call. */
  commitRequested(): boolean {
    let requested = false
    for (const task of this.#tasks.values()) requested = task.graph.takeCommitRequest() || requested
    return requested
  }

  /**
   * Offsets that moved since the last commit, for the given tasks (default all); stores are flushed first. For a
   * partition whose records were all processed (none buffered in the task), `drainedPosition` (the reader's
   * position when it holds none either) is committed when it is ahead: past commit markers and aborted batches.
   */
  offsetsToCommit(
    taskIds: Iterable<string> = this.#tasks.keys(),
    drainedPosition: (topic: string, partition: number) => bigint | undefined = () => undefined
  ): OffsetToCommit[] {
    const offsets: OffsetToCommit[] = []
    for (const id of taskIds) {
      const task = this.#tasks.get(id)
      if (!task || task.restoring) continue
      if (task.keyOrdered) {
        offsets.push(...keyOrderedOffsets(task, task.keyOrdered, drainedPosition))
        continue
      }
      task.graph.flush()
      const next = consumedOffsetsOf(task.graph)
      const buffered = new Map(
        task.graph.bufferedCounts().map((b) => [topicPartitionKey(b.topic, b.partition), b.count])
      )
      // A record in flight was read past: the reader's position would skip it.
      const busy = this.#scheduler.isBusy(task)
      for (const { topic, partition } of task.partitions) {
        const k = topicPartitionKey(topic, partition)
        if (busy || (buffered.get(k) ?? 0) > 0) continue
        const position = drainedPosition(topic, partition)
        const processed = next.get(k)?.offset ?? task.committed.get(k) ?? -1n
        if (position !== undefined && position > processed) next.set(k, { topic, partition, offset: position })
      }
      // Changed processor metadata goes out with every partition that has an offset to commit it with.
      if (task.graph.processorMetadata.needsCommit) {
        for (const { topic, partition } of task.partitions) {
          const k = topicPartitionKey(topic, partition)
          const known = next.get(k)?.offset ?? task.committed.get(k)
          if (known !== undefined) next.set(k, { topic, partition, offset: known })
        }
      }
      for (const [k, offset] of next) {
        if (task.committed.get(k) === offset.offset && !task.graph.processorMetadata.needsCommit) continue
        offsets.push({ ...offset, metadata: task.graph.committedMetadata(offset.topic, offset.partition) })
      }
    }
    return offsets
  }

  /** Records that `offsets` are now committed, with the processor metadata of their tasks. */
  markCommitted(offsets: readonly OffsetToCommit[]): void {
    for (const { topic, partition, offset } of offsets) {
      const task = this.#taskByPartition.get(topicPartitionKey(topic, partition))
      task?.committed.set(topicPartitionKey(topic, partition), offset)
      task?.graph.processorMetadata.committed()
    }
  }

  /** Records dropped on purpose (late for their window, null keys), by reason, over the current tasks. */
  droppedCounts(): Record<string, number> {
    const totals: Record<string, number> = {}
    for (const task of this.#tasks.values()) {
      for (const [reason, count] of Object.entries(task.graph.counters.dropped))
        totals[reason] = (totals[reason] ?? 0) + count
    }
    return totals
  }

  /** What every task this instance ran has done, closed ones included: the source of the task metrics. */
  counterTotals(): TaskCounters {
    const totals = addTaskCounters(newTaskCounters(), this.#retired)
    for (const task of this.#tasks.values()) addTaskCounters(totals, task.graph.counters)
    return totals
  }

  /** The active tasks as they are, for metrics and the status page (task-observation.ts); not to be changed. */
  activeTasks(): Iterable<Readonly<ActiveTask>> {
    return this.#tasks.values()
  }

  /** Counts a record the production handler skipped (`deadLettered`: dead-letter records sent in its place). */
  countProductionSkip(deadLettered: number): void {
    this.#retired.skipped.production++
    this.#retired.deadLettered += deadLettered
  }

  get buffered(): number {
    let total = 0
    for (const task of this.#tasks.values()) total += task.keyOrdered?.queue.buffered ?? task.graph.totalBuffered
    return total
  }
}
