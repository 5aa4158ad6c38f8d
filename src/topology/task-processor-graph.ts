import { AsyncLocalStorage } from 'node:async_hooks'
import { ConfigError } from '../errors.ts'
import type { TaskId } from '../task-id.ts'
import { decodeCommittedMetadata, encodeCommittedMetadata } from './committed-metadata.ts'
import { type DroppedRecordReason, warnDroppedRecord } from './dropped-records.ts'
import { type ErrorHandlerConfig, type ErrorStage, stderrLogger, type WarnLogger } from './error-handlers.ts'
import { andThen, forEachInOrder } from './maybe-async.ts'
import { type BufferedCount, PartitionGroup } from './partition-group.ts'
import type { Cancellable, PunctuationType, Punctuator } from './processor.ts'
import { ProcessorMetadata } from './processor-metadata.ts'
import { PunctuationQueue, type PunctuationSchedule } from './punctuation-queue.ts'
import type { RawRecord, StreamRecord, TopicPartition } from './record.ts'
import type { RecordCollector, TaskActivity } from './record-collector.ts'
import { decodeRecord } from './record-decoder.ts'
import type { StateStore, StoreBuilder } from './state-store.ts'
import { newTaskCounters, type TaskCounters } from './task-counters.ts'
import { TaskErrorRouter } from './task-error-router.ts'
import { closeTaskNodes, initProcessors, openStores } from './task-graph-lifecycle.ts'
import { ProcessorNode, SinkNode, SourceNode, type TaskEnvironment, type TaskNode } from './task-nodes.ts'
import { TaskStateError, TopologyError } from './topology-errors.ts'
import type { SubtopologyPlan, TopologyPlan } from './topology-plan.ts'

export interface TaskProcessorGraphOptions {
  readonly plan: TopologyPlan
  readonly taskId: TaskId
  readonly collector: RecordCollector
  /** Input topics (full names). Default: the sub-topology's named topics; pass pattern matches from `planPartitions`. */
  readonly inputTopics?: readonly string[]
  readonly errorHandlers?: ErrorHandlerConfig
  /** Epoch ms; the test driver passes its own clock. Default `Date.now`. */
  readonly wallClock?: () => number
  /** See `PartitionGroupOptions.maxTaskIdleMs`. */
  readonly maxTaskIdleMs?: number
  /** Makes this task's instance of a store; the state layer wraps stores here. Default `builder.build()`. */
  readonly createStore?: (builder: StoreBuilder, taskId: TaskId) => StateStore
  /** Warnings about records processors dropped on purpose (late, null key). Default: JSON lines on stderr. */
  readonly logger?: WarnLogger
  /** The process's global stores (`plan.globalStores`), open and filled, shared by every task. */
  readonly globalStores?: ReadonlyMap<string, StateStore>
  /**
   * How often, at most (wall clock), windowed aggregations emitting on window close look for closed windows: Kafka
   * Streams' internal `emit.interval.ms.kstreams.windowed.aggregation`, 1000 by default, 0 in its test driver.
   */
  readonly windowCloseEmitIntervalMs?: number
  /**
   * Key-ordered mode: the runtime buffers and orders the records itself and runs several at once with
   * `processConcurrently()` (each with its own record context); stream-time punctuators are refused.
   */
  readonly concurrentRecords?: boolean
}

/**
 * Next offset to consume of a partition (last processed + 1): what the runtime commits. A `number`, as the Processor
 * API's record offsets; the runtime converts it to the Kafka layer's `bigint` (`TopicPartitionOffset`).
 */
export interface ConsumedOffset extends TopicPartition {
  readonly offset: number
}

interface DecodedRecord {
  readonly raw: RawRecord
  readonly source: SourceNode
  readonly timestamp: number
  readonly record: StreamRecord<unknown, unknown>
}

type Settled = { readonly error: unknown } | undefined

/** What one record running concurrently with others sees as "current" (key-ordered mode). */
interface RecordScope {
  readonly raw: RawRecord
  readonly timestamp: number
  tracked: Promise<Settled>[]
}

/**
 * Runs one sub-topology for one task: the processors of task `<subtopology>_<partition>`. The runtime and the test
 * driver both drive it the same way: `init()`, then `addRecords()` as records are fetched, `processNext()` while it
 * returns true, `punctuateWallClock()` on a timer, `consumedOffsets()` + `flush()` to commit, `close()`.
 *
 * Calls are sequential: a call that returns a promise (an asynchronous processor or punctuator was involved) must
 * settle before the next call. Synchronous topologies never return promises.
 */
export class TaskProcessorGraph implements TaskEnvironment {
  readonly applicationId: string
  readonly taskId: TaskId
  readonly collector: RecordCollector
  readonly subtopology: SubtopologyPlan
  readonly counters: TaskCounters = newTaskCounters()
  readonly windowCloseEmitIntervalMs: number
  readonly processorMetadata = new ProcessorMetadata()
  readonly #plan: TopologyPlan
  readonly #errors: TaskErrorRouter
  readonly #wallClock: () => number
  readonly #createStore: (builder: StoreBuilder, taskId: TaskId) => StateStore
  readonly #logger: WarnLogger
  readonly #group: PartitionGroup<RawRecord, DecodedRecord>
  readonly #sourceByTopic = new Map<string, SourceNode>()
  readonly #nodes: TaskNode[] = []
  readonly #byName: ReadonlyMap<string, TaskNode>
  #stores = new Map<string, StateStore>()
  readonly #globalStores: ReadonlyMap<string, StateStore> | undefined
  readonly #streamTimeSchedules = new PunctuationQueue()
  readonly #wallClockSchedules = new PunctuationQueue()
  /**
   * The next offset to read per partition that made progress, in the order they first did, and the same entries by
   * topic and partition number. Updated for every record, so in place and without a topic-partition string key.
   */
  readonly #consumed: { topic: string; partition: number; offset: number }[] = []
  readonly #consumedByTopic = new Map<string, ({ offset: number } | undefined)[]>()
  #tracked: Promise<Settled>[] = []
  #current: RawRecord | null = null
  /** Set while punctuators run or stores flush, when there is no current record. */
  #activity: TaskActivity | null = null
  #currentTimestamp = -1
  #state: 'created' | 'running' | 'busy' | 'failed' | 'closed' = 'created'
  #commitRequested = false
  /** Key-ordered mode: the context of each record in flight, carried through its awaits. */
  readonly #scope: AsyncLocalStorage<RecordScope> | undefined
  /** Key-ordered mode: the largest timestamp of the records started so far. */
  #concurrentStreamTime = -1

  constructor(options: TaskProcessorGraphOptions) {
    const { plan, taskId } = options
    this.#plan = plan
    this.applicationId = plan.applicationId
    this.taskId = taskId
    this.collector = options.collector
    const subtopology = plan.subtopologies[taskId.subtopology]
    if (!subtopology) throw new TopologyError(`task ${taskId}: the topology has no sub-topology ${taskId.subtopology}`)
    this.subtopology = subtopology
    this.#errors = new TaskErrorRouter(taskId, options.collector, this.counters, options.errorHandlers, options.logger)
    this.#wallClock = options.wallClock ?? Date.now
    this.#createStore = options.createStore ?? ((builder) => builder.build())
    this.#globalStores = options.globalStores
    this.windowCloseEmitIntervalMs = options.windowCloseEmitIntervalMs ?? 1000
    this.#logger = options.logger ?? stderrLogger
    this.#scope = options.concurrentRecords ? new AsyncLocalStorage() : undefined

    const byName = new Map<string, TaskNode>()
    for (const definition of subtopology.nodes) {
      const node =
        definition.kind === 'source'
          ? new SourceNode(definition, this)
          : definition.kind === 'processor'
            ? new ProcessorNode(definition, this)
            : new SinkNode(definition, this)
      byName.set(definition.name, node)
      this.#nodes.push(node)
    }
    for (const node of this.#nodes) {
      if (node instanceof SourceNode || node instanceof ProcessorNode) {
        node.setChildren(node.definition.successors.map((name) => byName.get(name)!))
      }
    }

    this.#byName = byName
    this.#group = new PartitionGroup<RawRecord, DecodedRecord>(
      [],
      (raw, queue) => this.#decode(raw, queue.partitionTimeMs),
      {
        maxTaskIdleMs: options.maxTaskIdleMs ?? 0
      }
    )
    for (const topic of options.inputTopics ?? subtopology.sourceTopics) this.addInputTopic(topic)
  }

  /**
   * Makes partition `<task partition>` of `topic` an input of this task. For topics matched by a pattern source
   * after the task was created; named topics are inputs from the start.
   */
  addInputTopic(topic: string): void {
    if (this.#sourceByTopic.has(topic)) return
    const definition = this.#plan.sourceReading(this.subtopology, topic)
    if (!definition)
      throw new TopologyError(
        `task ${this.taskId}: no source of sub-topology ${this.subtopology.id} reads topic ${topic}`
      )
    this.#sourceByTopic.set(topic, this.#byName.get(definition.name) as SourceNode)
    this.#group.addPartition(topic, this.taskId.partition)
  }

  /**
   * Starts from what the last owner committed with an input partition's offset (call before `init()`, once per
   * partition): the partition time (stream time moves up to it) and the processor metadata, the larger value per key
   * over the partitions, as Kafka Streams does.
   */
  startFromCommitted(topic: string, partition: number, metadata: string | null | undefined): void {
    if (this.#state !== 'created') throw new TaskStateError(this.taskId, `startFromCommitted() in state ${this.#state}`)
    const committed = decodeCommittedMetadata(metadata)
    if (committed.partitionTimeMs >= 0) this.#group.setPartitionTime(topic, partition, committed.partitionTimeMs)
    this.processorMetadata.merge(committed.processorMetadata)
  }

  /** The metadata to commit with an input partition's offset: its partition time and the processor metadata. */
  committedMetadata(topic: string, partition: number): string {
    return encodeCommittedMetadata(this.#group.partitionTimeMs(topic, partition), this.processorMetadata.entries())
  }

  /** Opens the task's stores, then initialises its processors (which may schedule punctuators). */
  init(): void {
    if (this.#state !== 'created') throw new TaskStateError(this.taskId, `init() called in state ${this.#state}`)
    try {
      this.#stores = openStores(this.#plan, this.subtopology, this.taskId, this.#createStore)
      initProcessors(this.taskId, this.#processors())
    } catch (error) {
      this.#state = 'failed'
      throw error
    }
    this.#state = 'running'
  }

  /** The input partitions of this task. */
  inputPartitions(): TopicPartition[] {
    return this.#group.partitions()
  }

  /** Buffers consumed records (any of this task's partitions, in offset order per partition). */
  addRecords(records: Iterable<RawRecord>): void {
    for (const record of records) {
      if (!this.#group.addOne(record.topic, record.partition, record)) {
        throw new TaskStateError(
          this.taskId,
          `partition ${record.topic}-${record.partition} is not an input of this task`
        )
      }
    }
  }

  bufferedCount(topic: string, partition: number): number {
    return this.#group.bufferedCount(topic, partition)
  }

  /** Per input partition: how many records wait. The runtime pauses fetching a partition above its limit. */
  bufferedCounts(): BufferedCount[] {
    return this.#group.bufferedCounts()
  }

  get totalBuffered(): number {
    return this.#group.totalBuffered
  }

  /** Whether `processNext()` would process a record now (see `maxTaskIdleMs`). */
  readyToProcess(nowMs: number = this.#wallClock()): boolean {
    return this.#state === 'running' && this.#group.readyToProcess(nowMs)
  }

  /**
   * Processes the buffered record with the smallest timestamp across partitions, then any stream-time punctuators
   * that came due. False when nothing is buffered. A record whose bytes cannot be read goes to the deserialization
   * handler here. Throws (or rejects) when a handler chose to fail; the task is then failed and must be closed.
   */
  processNext(): boolean | Promise<boolean> {
    this.#enter('processNext()')
    let next: ReturnType<PartitionGroup<RawRecord, DecodedRecord>['next']>
    try {
      next = this.#group.next()
    } catch (error) {
      return this.#failWith(error)
    }
    if (next === undefined) {
      this.#state = 'running'
      return false
    }
    const { raw, source, record } = next.record
    this.#current = raw
    this.#currentTimestamp = record.timestamp
    return andThen(
      () => source.process(record),
      () =>
        andThen(
          () => this.#settleTracked(),
          () => {
            this.#markConsumed(raw)
            this.counters.processed++
            this.#current = null
            this.#currentTimestamp = -1
            return andThen(
              () => this.#runDue(this.#streamTimeSchedules, this.#group.streamTimeMs),
              () => {
                this.#state = 'running'
                return true
              }
            )
          }
        ),
      (error) => this.#failWith(error)
    )
  }

  /** Fires wall-clock punctuators due at `nowMs`; true if any fired. */
  punctuateWallClock(nowMs: number = this.#wallClock()): boolean | Promise<boolean> {
    this.#enter('punctuateWallClock()')
    return andThen(
      () => this.#runDue(this.#wallClockSchedules, nowMs),
      (fired) => {
        this.#state = 'running'
        return fired
      },
      (error) => this.#failWith(error)
    )
  }

  /**
   * Key-ordered mode: processes `raw` (decoded here; a record its handler skips counts as done) while other records
   * of this task may be in flight. The caller keeps each key's order and commits; this keeps each record's context
   * (its metadata, timestamp, un-awaited forwards) apart across awaits. Stream time is the largest timestamp started.
   */
  processConcurrently(raw: RawRecord): boolean | Promise<boolean> {
    const scope = this.#scope
    if (scope === undefined || this.#state !== 'running') {
      const why = scope === undefined ? 'the task does not run records concurrently' : `the task is ${this.#state}`
      throw new TaskStateError(this.taskId, `cannot call processConcurrently(): ${why}`)
    }
    const source = this.#sourceByTopic.get(raw.topic)
    if (!source) throw new TaskStateError(this.taskId, `partition ${raw.topic}-${raw.partition} is not an input`)
    let record: StreamRecord<unknown, unknown>
    try {
      const { key, value, timestamp } = decodeRecord(raw, source.definition, this.streamTimeMs)
      record = { key, value, timestamp, headers: raw.headers }
    } catch (error) {
      try {
        this.#errors.handle({ stage: 'deserialization', nodeName: source.name, sourceRecord: raw }, error)
      } catch (fatal) {
        return this.#failWith(fatal)
      }
      return true
    }
    if (record.timestamp > this.#concurrentStreamTime) this.#concurrentStreamTime = record.timestamp
    const context: RecordScope = { raw, timestamp: record.timestamp, tracked: [] }
    return scope.run(context, () =>
      andThen(
        () => source.process(record),
        () =>
          andThen(
            () => this.#settleTracked(context),
            () => {
              this.counters.processed++
              return true
            }
          ),
        (error) => this.#failWith(error)
      )
    )
  }

  /** Whether a wall-clock punctuator is due (key-ordered mode stops starting records until it has fired). */
  wallClockDue(nowMs: number = this.#wallClock()): boolean {
    return this.#wallClockSchedules.nextDueMs <= nowMs
  }

  /** The offsets to commit: for each partition that made progress, the next offset to read. */
  consumedOffsets(): ConsumedOffset[] {
    return this.#consumed.map(({ topic, partition, offset }) => ({ topic, partition, offset }))
  }

  /** True once since a processor called `requestCommit()`. */
  takeCommitRequest(): boolean {
    const requested = this.#commitRequested
    this.#commitRequested = false
    return requested
  }

  /** Flushes the stores; the runtime then waits for the producer's acknowledgements and commits. */
  flush(): void {
    this.#activity = 'flushing'
    try {
      for (const store of this.#stores.values()) store.flush()
    } finally {
      this.#activity = null
    }
  }

  getStateStore(name: string): StateStore | undefined {
    return this.#stores.get(name)
  }

  get streamTimeMs(): number {
    return this.#scope === undefined ? this.#group.streamTimeMs : this.#concurrentStreamTime
  }

  get currentRecord(): RawRecord | null {
    return this.#scope?.getStore()?.raw ?? this.#current
  }

  /** What the task is doing: processing `currentRecord`, running a punctuator, or flushing its stores. */
  get currentActivity(): TaskActivity | undefined {
    return this.currentRecord !== null ? 'processing' : (this.#activity ?? undefined)
  }

  /**
   * The timestamp of the record being processed (as its extractor chose it), or the stream time outside of a record
   * (punctuators, `flush()`): what `TaskStateManagerOptions.currentTimestamp` should return for this task.
   */
  get currentTimestampMs(): number {
    const scope = this.#scope?.getStore()
    if (scope !== undefined) return scope.timestamp
    return this.#current === null ? this.streamTimeMs : this.#currentTimestamp
  }

  /** Closes processors then stores, all of them even if some fail; the first failure is thrown after. */
  close(): void | Promise<void> {
    if (this.#state === 'closed') return
    const processors = this.#state === 'created' ? [] : this.#processors()
    this.#state = 'closed'
    this.#group.clear()
    this.#streamTimeSchedules.clear()
    this.#wallClockSchedules.clear()
    return closeTaskNodes(this.taskId, processors, this.#stores.values())
  }

  // TaskEnvironment, used by the nodes.

  wallClockMs(): number {
    return this.#wallClock()
  }

  resolveTopic(topic: string): string {
    return this.#plan.resolveTopic(topic)
  }

  track(pending: PromiseLike<unknown>): void {
    ;(this.#scope?.getStore()?.tracked ?? this.#tracked).push(
      Promise.resolve(pending).then(
        () => undefined,
        (error: unknown) => ({ error })
      )
    )
  }

  fatal(error: unknown): Error {
    return this.#errors.fatal(error)
  }

  handleFailure(stage: ErrorStage, nodeName: string, error: unknown, topic: string | null = null): void {
    this.#errors.handle(
      { stage, nodeName, sourceRecord: this.currentRecord, activity: this.currentActivity, topic },
      error
    )
  }

  schedule(owner: string, intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable {
    // Stream time moves as records of other keys start: a punctuator on it would fire between unfinished records.
    if (type === 'stream-time' && this.#scope !== undefined) {
      throw new ConfigError(
        'processingOrder',
        `key-ordered concurrency (processingOrder 'key') cannot run processor ${owner} of task ${this.taskId}: it ` +
          "schedules a stream-time punctuator; use 'wall-clock', or processingOrder 'partition'"
      )
    }
    // Stream time is aligned to 0 so the first punctuation comes with the first record; wall-clock starts from now.
    const schedule: PunctuationSchedule =
      type === 'stream-time'
        ? this.#streamTimeSchedules.add(owner, 0, intervalMs, punctuator)
        : this.#wallClockSchedules.add(owner, this.#wallClock() + intervalMs, intervalMs, punctuator)
    return {
      cancel() {
        schedule.cancelled = true
      }
    }
  }

  isGlobalStore(name: string): boolean {
    return this.#plan.globalStores.has(name)
  }

  store(name: string): StateStore {
    const store = this.#stores.get(name) ?? this.#globalStores?.get(name)
    if (!store) throw new TaskStateError(this.taskId, `state store ${name} is not open (is the task initialised?)`)
    return store
  }

  requestCommit(): void {
    this.#commitRequested = true
  }

  recordDropped(nodeName: string, reason: DroppedRecordReason, message: string): void {
    this.counters.dropped[reason]++
    warnDroppedRecord(this.#logger, this.taskId, nodeName, reason, this.currentRecord, message)
  }

  // Internals.

  #processors(): ProcessorNode[] {
    return this.#nodes.filter((node): node is ProcessorNode => node instanceof ProcessorNode)
  }

  #enter(operation: string): void {
    if (this.#state === 'running') {
      this.#state = 'busy'
      return
    }
    const why =
      this.#state === 'busy'
        ? 'the previous call has not settled (await its promise first)'
        : this.#state === 'created'
          ? 'the task is not initialised (call init())'
          : `the task is ${this.#state}`
    throw new TaskStateError(this.taskId, `cannot call ${operation}: ${why}`)
  }

  #failWith(error: unknown): never {
    this.#state = 'failed'
    this.#current = null
    this.#activity = null
    this.#currentTimestamp = -1
    this.#tracked = []
    throw error
  }

  /**
   * Waits for forwards nobody awaited, so the next record starts only after this one is done everywhere (key-ordered
   * mode: the forwards of the record of `scope`).
   */
  #settleTracked(scope?: RecordScope): void | Promise<void> {
    const pending = scope === undefined ? this.#tracked : scope.tracked
    if (pending.length === 0) return
    if (scope === undefined) this.#tracked = []
    else scope.tracked = []
    return Promise.all(pending).then((results) => {
      const failed = results.find((result) => result !== undefined)
      if (failed) throw failed.error
      return this.#settleTracked(scope)
    })
  }

  #runDue(queue: PunctuationQueue, nowMs: number): boolean | Promise<boolean> {
    if (queue.size === 0 || nowMs < 0) return false
    const due = queue.due(nowMs)
    if (due.length === 0) return false
    return andThen(
      () =>
        forEachInOrder(due, (schedule) => {
          if (schedule.cancelled) return
          this.#current = null
          this.#activity = 'punctuating'
          this.counters.punctuations++
          return andThen(
            () => schedule.punctuator(nowMs),
            () => this.#settleTracked(),
            (error) => this.handleFailure('processing', schedule.owner, error)
          )
        }),
      () => {
        this.#activity = null
        return true
      },
      (error) => {
        this.#activity = null
        throw error
      }
    )
  }

  #markConsumed(raw: RawRecord): void {
    const offset = raw.offset + 1
    let partitions = this.#consumedByTopic.get(raw.topic)
    if (partitions === undefined) {
      partitions = []
      this.#consumedByTopic.set(raw.topic, partitions)
    }
    const previous = partitions[raw.partition]
    if (previous === undefined) {
      const entry = { topic: raw.topic, partition: raw.partition, offset }
      partitions[raw.partition] = entry
      this.#consumed.push(entry)
    } else if (previous.offset < offset) previous.offset = offset
  }

  /** Deserializes a record reaching the head of its queue; undefined when its handler chose to skip it. */
  #decode(raw: RawRecord, partitionTimeMs: number): DecodedRecord | undefined {
    const source = this.#sourceByTopic.get(raw.topic)!
    try {
      const { key, value, timestamp } = decodeRecord(raw, source.definition, partitionTimeMs)
      return { raw, source, timestamp, record: { key, value, timestamp, headers: raw.headers } }
    } catch (error) {
      this.#errors.handle({ stage: 'deserialization', nodeName: source.name, sourceRecord: raw }, error)
      this.#markConsumed(raw)
      return undefined
    }
  }
}
