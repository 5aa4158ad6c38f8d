import { StreamlaneError } from '../errors.ts'
import type { Serde } from '../serde/index.ts'
import { Headers } from '../serde/index.ts'
import type {
  ReadOnlyKeyValueStore,
  ReadOnlySessionStore,
  ReadOnlyWindowStore,
  ValueAndTimestamp
} from '../state/index.ts'
import { GlobalStores } from '../state/index.ts'
import type {
  DroppedRecordReason,
  ErrorHandlerConfig,
  ProducedRecord,
  RawRecord,
  RecordCollector,
  StateStore,
  Topology,
  WarnLogger
} from '../topology/index.ts'
import {
  andThen,
  forEachInOrder,
  GlobalStoreProcessors,
  isPromiseLike,
  planTopology,
  TaskId,
  TaskProcessorGraph,
  type TopologyPlan
} from '../topology/index.ts'
import { DriverState } from './driver-state.ts'
import { SerialOperations } from './serial-operations.ts'
import { keyValueView, sessionView, storeKindOf, windowView } from './store-views.ts'
import { type InputSink, TestInputTopic, type TestInputTopicOptions } from './test-input-topic.ts'
import { TestOutputTopic } from './test-output-topic.ts'
import { TopicLogs } from './topic-logs.ts'

export interface TopologyTestDriverConfig {
  readonly applicationId: string
  /** The driver's wall clock starts here (epoch ms). Default 0, so tests are deterministic. */
  readonly initialWallClockTimeMs?: number
  readonly errorHandlers?: ErrorHandlerConfig
  /**
   * The record cache of each task (bytes). Default 10 MiB, the application's default. With the default commit after
   * every record it only merges several updates of one key caused by the same input record; 0 forwards every update.
   */
  readonly cacheMaxBytes?: number
  /**
   * Without it (the default, as Kafka Streams' driver), the driver commits after every piped record: caches are
   * flushed (their updates forwarded and logged) and store writes committed before `pipeInput` returns. With it,
   * the driver commits only when `advanceWallClockTime` has moved the clock this far since the last commit, and on
   * `commit()`, as the runtime does on its commit interval: cached updates wait until then.
   */
  readonly commitIntervalMs?: number
  /** Where warnings go (records dropped as late or without a key, state warnings). Default: kept in `warnings`. */
  readonly logger?: WarnLogger
}

/** A warning the driver recorded (see `TopologyTestDriverConfig.logger`). */
export interface DriverWarning {
  readonly fields: Record<string, unknown>
  readonly message: string
}

/** The application's default record cache size, which the driver uses too. */
const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 * 1024

/**
 * Runs a topology in-process, without a broker, on the same `TaskProcessorGraph` the runtime runs: one task
 * (`<subtopology>_0`) per sub-topology, every topic with one partition. A piped record is processed at once, and
 * so is everything it causes: records written to a topic the topology reads (repartition topics above all) are fed
 * back in before `pipeInput` returns. Every topic written, dead-letter and repartition topics included, can be read
 * with an output topic.
 *
 * After a handler chose to fail, the failing task stays failed (as it would in the runtime): make a new driver.
 */
export class TopologyTestDriver {
  readonly plan: TopologyPlan
  readonly #tasks = new Map<number, TaskProcessorGraph>()
  readonly #topics = new TopicLogs()
  readonly #loopBack: RawRecord[] = []
  readonly #state: DriverState
  /** The global stores (GlobalKTables), filled as their topics are piped, and their topics -> store names. */
  readonly #global: GlobalStores | null
  /** The update processors of global stores added with one (`addGlobalStore`). */
  readonly #globalProcessors: GlobalStoreProcessors | null
  readonly #globalTopics: ReadonlyMap<string, string>
  readonly #commitIntervalMs: number | null
  #lastCommitMs: number
  #wallClockMs: number
  /** Warnings logged while no `logger` was configured. */
  readonly warnings: DriverWarning[] = []
  readonly #operations = new SerialOperations()

  constructor(topology: Topology, config: TopologyTestDriverConfig) {
    this.plan = planTopology(topology, config.applicationId)
    this.#wallClockMs = config.initialWallClockTimeMs ?? 0
    this.#lastCommitMs = this.#wallClockMs
    this.#commitIntervalMs = config.commitIntervalMs ?? null
    const logger: WarnLogger = config.logger ?? {
      warn: (fields, message) => void this.warnings.push({ fields, message })
    }
    this.#state = new DriverState({
      plan: this.plan,
      cacheMaxBytes: config.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES,
      logger: { warn: (fields, message) => logger.warn(fields, message), info: () => {} },
      record: (topic, key, value, timestamp) =>
        this.#topics.append({ topic, key, value, headers: Headers.empty, timestamp }),
      endOffset: (topic) => this.#topics.endOffset(topic)
    })
    const globalTopics = new Map([...this.plan.globalStores].map(([store, { topic }]) => [topic, store]))
    this.#globalTopics = globalTopics
    const builders = [...this.plan.globalStores.values()].map((g) => g.builder)
    this.#global = builders.length === 0 ? null : new GlobalStores(config.applicationId, builders)
    this.#globalProcessors =
      this.#global === null
        ? null
        : new GlobalStoreProcessors({
            applicationId: config.applicationId,
            definitions: this.plan.globalStores,
            stores: this.#global.stores,
            wallClock: () => this.#wallClockMs
          })
    const collector: RecordCollector = {
      send: (record) => this.#collect(record),
      partitionCount: () => 1
    }
    for (const sub of this.plan.subtopologies) {
      const taskId = new TaskId(sub.id, 0)
      const task = new TaskProcessorGraph({
        plan: this.plan,
        taskId,
        collector,
        wallClock: () => this.#wallClockMs,
        logger,
        createStore: this.#state.storeFactory(taskId, () => this.#tasks.get(sub.id)),
        ...(this.#global === null ? {} : { globalStores: this.#global.stores }),
        // As Kafka Streams' driver: emit-on-window-close looks for closed windows after every record.
        windowCloseEmitIntervalMs: 0,
        ...(config.errorHandlers ? { errorHandlers: config.errorHandlers } : {})
      })
      this.#tasks.set(sub.id, task)
    }
    try {
      for (const task of this.#tasks.values()) task.init()
    } catch (error) {
      void this.#state.close().catch(() => {})
      throw error
    }
  }

  /** The temporary state directory of the persistent stores (removed on close), or null when all are in memory. */
  get stateDir(): string | null {
    return this.#state.stateDir
  }

  get wallClockTimeMs(): number {
    return this.#wallClockMs
  }

  createInputTopic<K, V>(
    topic: string,
    keySerde: Serde<K>,
    valueSerde: Serde<V>,
    options: TestInputTopicOptions = {}
  ): TestInputTopic<K, V> {
    const sub = this.plan.subtopologyReading(topic)
    if (!sub && !this.#globalTopics.has(topic)) {
      throw new StreamlaneError(
        'STREAMLANE_TEST_UNKNOWN_TOPIC',
        `topic ${topic} is not read by the topology; sources read: ${this.#sourceList()}`
      )
    }
    if (sub) this.#tasks.get(sub.id)!.addInputTopic(topic)
    const sink: InputSink = { pipe: (...args) => this.#pipe(...args) }
    return new TestInputTopic(
      topic,
      sink,
      keySerde,
      valueSerde,
      options.startTimestampMs ?? this.#wallClockMs,
      options.autoAdvanceMs ?? 0
    )
  }

  /** Reads a topic the topology writes: give the full name for internal ones, `<app.id>-<name>-repartition`. */
  createOutputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic(topic, this.#topics.log(topic), keySerde, valueSerde)
  }

  /** Topics the topology has written so far. */
  producedTopicNames(): string[] {
    return this.#topics.producedTopicNames()
  }

  /**
   * Moves the wall clock and fires the wall-clock punctuators that came due; then commits, when committing after
   * every record (the default) or when `commitIntervalMs` has passed since the last commit.
   */
  advanceWallClockTime(ms: number): void | Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advanceWallClockTime needs a duration >= 0, got ${ms}`)
    return this.#operations.run(() => {
      this.#wallClockMs += ms
      return andThen(
        () =>
          forEachInOrder([...this.#tasks.values()], (task) =>
            andThen(
              () => task.punctuateWallClock(this.#wallClockMs),
              () => this.#drain()
            )
          ),
        () => {
          const interval = this.#commitIntervalMs
          if (interval === null || this.#wallClockMs - this.#lastCommitMs >= interval) return this.#commitAll()
        }
      )
    })
  }

  /**
   * Commits every task now, as the runtime does on its commit interval: caches are flushed (their updates forwarded
   * downstream and to the changelogs) and store writes become durable. Only needed with `commitIntervalMs`.
   */
  commit(): void | Promise<void> {
    return this.#operations.run(() => this.#commitAll())
  }

  /** A store of the topology as the processors see it (writable: tests should only read). */
  getStateStore<S extends StateStore = StateStore>(name: string): S {
    const global = this.#global?.stores.get(name)
    if (global) return global as S
    for (const task of this.#tasks.values()) {
      const store = task.getStateStore(name)
      if (store) return store as S
    }
    throw new StreamlaneError('STREAMLANE_TEST_UNKNOWN_STORE', `the topology has no state store named ${name}`)
  }

  /** A key-value store, read-only; the values of timestamped stores (DSL tables and aggregations) without timestamps. */
  getKeyValueStore<K, V>(name: string): ReadOnlyKeyValueStore<K, V> {
    const kind = storeKindOf(this.plan, name, 'key-value')
    return keyValueView<K, V>(this.getStateStore(name), kind)
  }

  /** A timestamped key-value store, read-only, values with the timestamp of their last update. */
  getTimestampedKeyValueStore<K, V>(name: string): ReadOnlyKeyValueStore<K, ValueAndTimestamp<V>> {
    storeKindOf(this.plan, name, 'key-value')
    return keyValueView<K, ValueAndTimestamp<V>>(this.getStateStore(name), 'key-value')
  }

  /** A window store, read-only; the values of timestamped ones (DSL windowed aggregations) without timestamps. */
  getWindowStore<K, V>(name: string): ReadOnlyWindowStore<K, V> {
    const kind = storeKindOf(this.plan, name, 'window')
    return windowView<K, V>(this.getStateStore(name), kind)
  }

  /** A timestamped window store, read-only, values with the largest timestamp of the records aggregated. */
  getTimestampedWindowStore<K, V>(name: string): ReadOnlyWindowStore<K, ValueAndTimestamp<V>> {
    storeKindOf(this.plan, name, 'window')
    return windowView<K, ValueAndTimestamp<V>>(this.getStateStore(name), 'window')
  }

  getSessionStore<K, V>(name: string): ReadOnlySessionStore<K, V> {
    storeKindOf(this.plan, name, 'session')
    return sessionView<K, V>(this.getStateStore(name))
  }

  /**
   * Records processors dropped on purpose, over every task: late records (`'late'`), records without a key where one
   * is needed (`'null-key'`), without a value in a stream aggregation (`'null-value'`); all of them when no reason is
   * given. The runtime exports the same counters (`DROPPED_RECORDS_METRICS`).
   */
  droppedRecords(reason?: DroppedRecordReason): number {
    let total = 0
    for (const task of this.#tasks.values()) {
      const dropped = task.counters.dropped
      total += reason === undefined ? dropped.late + dropped['null-key'] + dropped['null-value'] : dropped[reason]
    }
    return total
  }

  /** The task running a sub-topology, for its counters and offsets. */
  task(subtopology: number): TaskProcessorGraph {
    const task = this.#tasks.get(subtopology)
    if (!task) throw new RangeError(`the topology has no sub-topology ${subtopology}`)
    return task
  }

  /**
   * Closes the tasks (processors, then stores) and the state: LMDB environments are closed and the temporary state
   * directory is removed. Stores are closed by the time this returns; await it for the directory.
   */
  close(): void | Promise<void> {
    return this.#operations.run(() =>
      andThen(
        () =>
          andThen(
            () => forEachInOrder([...this.#tasks.values()], (task) => task.close()),
            () => this.#globalProcessors?.close()
          ),
        () => Promise.all([this.#state.close(), this.#global?.close()]).then(() => undefined),
        (error) =>
          Promise.all([this.#state.close(), this.#global?.close()]).then(() => {
            throw error
          })
      )
    )
  }

  #pipe(
    topic: string,
    key: Buffer | null,
    value: Buffer | null,
    timestamp: number,
    headers: Headers
  ): void | Promise<void> {
    return this.#operations.run(() => {
      const globalStore = this.#globalTopics.get(topic)
      if (globalStore !== undefined) {
        // As Kafka Streams' driver: a global topic's record updates its global store at once.
        const offset = this.#topics.takeOffset(topic)
        if (!this.#globalProcessors!.has(globalStore)) {
          this.#global!.apply(globalStore, [{ key, value, timestamp, offset: BigInt(offset) }])
          return
        }
        const raw = { topic, partition: 0, offset, timestamp, key, value, headers }
        return andThen(
          () => this.#globalProcessors!.process(globalStore, [raw]),
          () => this.#global!.commit()
        )
      }
      this.#loopBack.push({
        topic,
        partition: 0,
        offset: this.#topics.takeOffset(topic),
        timestamp,
        key,
        value,
        headers
      })
      return this.#drain()
    })
  }

  /**
   * Processes every record waiting, including those the processing writes to topics the topology reads. When
   * committing after every record (the default), each record processed, a piped one or one read back from a
   * repartition topic, is followed by a commit of every task before the next, as in Kafka Streams' driver.
   */
  #drain(): void | Promise<void> {
    for (let raw = this.#loopBack.shift(); raw !== undefined; raw = this.#loopBack.shift()) {
      const task = this.#tasks.get(this.plan.subtopologyReading(raw.topic)!.id)!
      task.addInputTopic(raw.topic)
      task.addRecords([raw])
      let processed: void | Promise<void>
      try {
        processed = andThen(
          () => this.#processAll(task),
          () => (this.#commitIntervalMs === null ? this.#commitTasks() : undefined)
        )
      } catch (error) {
        this.#loopBack.length = 0 // what a failed record caused is not fed on to later pipes
        throw error
      }
      if (isPromiseLike(processed)) {
        return processed.then(
          () => this.#drain(),
          (error: unknown) => {
            this.#loopBack.length = 0
            throw error
          }
        )
      }
    }
  }

  #processAll(task: TaskProcessorGraph): void | Promise<void> {
    for (;;) {
      const result = task.processNext()
      if (result === false) return
      if (result !== true) return result.then((more) => (more ? this.#processAll(task) : undefined))
    }
  }

  /**
   * Flushes every task's stores, then commits every task's state. What the flush forwards to a topic the topology
   * reads (a table update through a repartition topic) waits in the loop-back queue for the caller to drain.
   */
  #commitTasks(): void {
    for (const task of this.#tasks.values()) task.flush()
    for (const task of this.#tasks.values()) this.#state.commit(task)
    this.#lastCommitMs = this.#wallClockMs
  }

  /** Commits, then processes what the commit's flush wrote back (committing after each record when the default). */
  #commitAll(): void | Promise<void> {
    this.#commitTasks()
    if (this.#loopBack.length === 0) return
    return andThen(
      () => this.#drain(),
      () => this.#commitAll()
    )
  }

  #collect(record: ProducedRecord): void {
    const offset = this.#topics.append(record)
    if (this.plan.subtopologyReading(record.topic)) {
      this.#loopBack.push({
        topic: record.topic,
        partition: 0,
        offset,
        timestamp: record.timestamp,
        key: record.key,
        value: record.value,
        headers: record.headers
      })
    }
  }

  #sourceList(): string {
    return this.plan.subtopologies
      .flatMap((sub) => [...sub.sourceTopics, ...sub.sourcePatterns.map((p) => `/${p.source}/`)])
      .join(', ')
  }
}
