import { StreamlaneError } from '../errors.ts'
import type { Headers } from '../serde/headers.ts'
import type { Serde } from '../serde/serde.ts'
import type { ErrorHandlerConfig } from '../topology/error-handlers.ts'
import { andThen, forEachInOrder, isPromiseLike } from '../topology/maybe-async.ts'
import type { RawRecord } from '../topology/record.ts'
import type { ProducedRecord, RecordCollector } from '../topology/record-collector.ts'
import type { StateStore } from '../topology/state-store.ts'
import { TaskId } from '../topology/task-id.ts'
import { TaskProcessorGraph } from '../topology/task-processor-graph.ts'
import type { Topology } from '../topology/topology.ts'
import { planTopology, type TopologyPlan } from '../topology/topology-plan.ts'
import { type InputSink, TestInputTopic, type TestInputTopicOptions } from './test-input-topic.ts'
import { type OutputLog, TestOutputTopic } from './test-output-topic.ts'

export interface TopologyTestDriverConfig {
  readonly applicationId: string
  /** The driver's wall clock starts here (epoch ms). Default 0, so tests are deterministic. */
  readonly initialWallClockTimeMs?: number
  readonly errorHandlers?: ErrorHandlerConfig
}

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
  readonly #logs = new Map<string, OutputLog>()
  readonly #nextOffset = new Map<string, number>()
  readonly #loopBack: RawRecord[] = []
  #wallClockMs: number
  /** Settles when the last asynchronous operation has; later operations wait for it. */
  #pending: Promise<void> | null = null

  constructor(topology: Topology, config: TopologyTestDriverConfig) {
    this.plan = planTopology(topology, config.applicationId)
    this.#wallClockMs = config.initialWallClockTimeMs ?? 0
    const collector: RecordCollector = {
      send: (record) => this.#collect(record),
      partitionCount: () => 1
    }
    for (const sub of this.plan.subtopologies) {
      const task = new TaskProcessorGraph({
        plan: this.plan,
        taskId: new TaskId(sub.id, 0),
        collector,
        wallClock: () => this.#wallClockMs,
        ...(config.errorHandlers ? { errorHandlers: config.errorHandlers } : {})
      })
      this.#tasks.set(sub.id, task)
    }
    for (const task of this.#tasks.values()) task.init()
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
    if (!sub) {
      throw new StreamlaneError(
        'STREAMLANE_TEST_UNKNOWN_TOPIC',
        `topic ${topic} is not read by the topology; sources read: ${this.#sourceList()}`
      )
    }
    this.#tasks.get(sub.id)!.addInputTopic(topic)
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
    return new TestOutputTopic(topic, this.#log(topic), keySerde, valueSerde)
  }

  /** Topics the topology has written so far. */
  producedTopicNames(): string[] {
    return [...this.#logs].filter(([, log]) => log.records.length > 0).map(([topic]) => topic)
  }

  /** Moves the wall clock and fires the wall-clock punctuators that came due. */
  advanceWallClockTime(ms: number): void | Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advanceWallClockTime needs a duration >= 0, got ${ms}`)
    return this.#serialized(() => {
      this.#wallClockMs += ms
      return forEachInOrder([...this.#tasks.values()], (task) =>
        andThen(
          () => task.punctuateWallClock(this.#wallClockMs),
          () => this.#drain()
        )
      )
    })
  }

  getStateStore<S extends StateStore = StateStore>(name: string): S {
    for (const task of this.#tasks.values()) {
      const store = task.getStateStore(name)
      if (store) return store as S
    }
    throw new StreamlaneError('STREAMLANE_TEST_UNKNOWN_STORE', `the topology has no state store named ${name}`)
  }

  /** The task running a sub-topology, for its counters and offsets. */
  task(subtopology: number): TaskProcessorGraph {
    const task = this.#tasks.get(subtopology)
    if (!task) throw new RangeError(`the topology has no sub-topology ${subtopology}`)
    return task
  }

  close(): void | Promise<void> {
    return this.#serialized(() => forEachInOrder([...this.#tasks.values()], (task) => task.close()))
  }

  #pipe(
    topic: string,
    key: Buffer | null,
    value: Buffer | null,
    timestamp: number,
    headers: Headers
  ): void | Promise<void> {
    return this.#serialized(() => {
      this.#loopBack.push({ topic, partition: 0, offset: this.#takeOffset(topic), timestamp, key, value, headers })
      return this.#drain()
    })
  }

  /** Processes every record waiting, including those the processing writes to topics the topology reads. */
  #drain(): void | Promise<void> {
    for (let raw = this.#loopBack.shift(); raw !== undefined; raw = this.#loopBack.shift()) {
      const task = this.#tasks.get(this.plan.subtopologyReading(raw.topic)!.id)!
      task.addInputTopic(raw.topic)
      task.addRecords([raw])
      let processed: void | Promise<void>
      try {
        processed = this.#processAll(task)
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
      if (result === false) {
        task.flush()
        return
      }
      if (result !== true) return result.then((more) => (more ? this.#processAll(task) : task.flush()))
    }
  }

  #collect(record: ProducedRecord): void {
    const offset = this.#takeOffset(record.topic)
    this.#log(record.topic).records.push({ ...record, offset })
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

  /** Runs `work` now, or after the asynchronous operation still in progress. */
  #serialized(work: () => void | Promise<void>): void | Promise<void> {
    const result = this.#pending ? this.#pending.then(work) : work()
    if (!isPromiseLike(result)) return
    const settled: Promise<void> = result.then(
      () => this.#clearPending(settled),
      () => this.#clearPending(settled)
    )
    this.#pending = settled
    return result
  }

  #clearPending(settled: Promise<void>): void {
    if (this.#pending === settled) this.#pending = null
  }

  #log(topic: string): OutputLog {
    let log = this.#logs.get(topic)
    if (!log) {
      log = { records: [], position: 0 }
      this.#logs.set(topic, log)
    }
    return log
  }

  #takeOffset(topic: string): number {
    const offset = this.#nextOffset.get(topic) ?? 0
    this.#nextOffset.set(topic, offset + 1)
    return offset
  }

  #sourceList(): string {
    return this.plan.subtopologies
      .flatMap((sub) => [...sub.sourceTopics, ...sub.sourcePatterns.map((p) => `/${p.source}/`)])
      .join(', ')
  }
}
