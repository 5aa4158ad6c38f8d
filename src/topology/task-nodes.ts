import type { Serde } from '../serde/index.ts'
import { isSerializationError, SerializationError } from '../serde/index.ts'
import type { TaskId } from '../task-id.ts'
import type { DroppedRecordReason } from './dropped-records.ts'
import type { ErrorStage } from './error-handlers.ts'
import type { RecordContext } from './extractors.ts'
import { forEachInOrder, isPromiseLike } from './maybe-async.ts'
import type { Cancellable, Processor, ProcessorContext, PunctuationType, Punctuator } from './processor.ts'
import type { ProcessorMetadata } from './processor-metadata.ts'
import type { RawRecord, RecordMetadata, StreamRecord } from './record.ts'
import type { RecordCollector, TaskActivity } from './record-collector.ts'
import type { StateStore } from './state-store.ts'
import type { ProcessorDefinition, SinkDefinition, SourceDefinition } from './topology.ts'
import { TopologyError } from './topology-errors.ts'

type AnyRecord = StreamRecord<unknown, unknown>

/** What the nodes of a task share; implemented by `TaskProcessorGraph`. */
export interface TaskEnvironment {
  readonly applicationId: string
  readonly taskId: TaskId
  readonly collector: RecordCollector
  /** The consumed record being processed, null in punctuators and store flushes. */
  readonly currentRecord: RawRecord | null
  /** What the task is doing, for error messages. */
  readonly currentActivity: TaskActivity | undefined
  readonly streamTimeMs: number
  /** See `TaskProcessorGraphOptions.windowCloseEmitIntervalMs`. */
  readonly windowCloseEmitIntervalMs: number
  /** Kept with the task's committed offsets (the last window close time emitted, by store). */
  readonly processorMetadata: ProcessorMetadata
  wallClockMs(): number
  resolveTopic(topic: string): string
  /** Remembers an un-awaited forward so the task waits for it before the next record. */
  track(pending: PromiseLike<unknown>): void
  /** Applies the stage's error handler: returns to skip the record, throws to fail the task. */
  handleFailure(stage: ErrorStage, nodeName: string, error: unknown, topic?: string | null): void
  /** Marks an error that must stop the task without passing through a handler again. */
  fatal(error: unknown): Error
  schedule(owner: string, intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable
  store(name: string): StateStore
  /** Whether `name` is a global store, which every processor may read. */
  isGlobalStore(name: string): boolean
  requestCommit(): void
  /** Counts a record a processor dropped on purpose and logs a warning locating it. */
  recordDropped(nodeName: string, reason: DroppedRecordReason, message: string): void
}

export interface TaskNode {
  readonly name: string
  process(record: AnyRecord): void | Promise<void>
}

/** Sends a record to children in the order they were added, waiting for asynchronous ones in turn. */
abstract class ParentNode {
  readonly name: string
  children: TaskNode[] = []
  #childByName = new Map<string, TaskNode>()

  constructor(name: string) {
    this.name = name
  }

  setChildren(children: TaskNode[]): void {
    this.children = children
    this.#childByName = new Map(children.map((child) => [child.name, child]))
  }

  forward(env: TaskEnvironment, record: AnyRecord, childName?: string): void | Promise<void> {
    let result: void | Promise<void>
    if (childName !== undefined) {
      const child = this.#childByName.get(childName)
      if (!child) {
        throw new TopologyError(
          `${this.name} has no child named ${childName} (children: ${this.children.map((c) => c.name).join(', ') || 'none'})`
        )
      }
      result = child.process(record)
    } else if (this.children.length === 1) {
      result = this.children[0]!.process(record)
    } else {
      result = forEachInOrder(this.children, (child) => child.process(record))
    }
    if (isPromiseLike(result)) env.track(result)
    return result
  }
}

export class SourceNode extends ParentNode implements TaskNode {
  readonly definition: SourceDefinition
  readonly #env: TaskEnvironment

  constructor(definition: SourceDefinition, env: TaskEnvironment) {
    super(definition.name)
    this.definition = definition
    this.#env = env
  }

  process(record: AnyRecord): void | Promise<void> {
    return this.forward(this.#env, record)
  }
}

export class ProcessorNode extends ParentNode implements TaskNode {
  readonly definition: ProcessorDefinition
  readonly processor: Processor<unknown, unknown, unknown, unknown>
  readonly context: ProcessorContext
  readonly #env: TaskEnvironment

  constructor(definition: ProcessorDefinition, env: TaskEnvironment) {
    super(definition.name)
    this.definition = definition
    this.#env = env
    this.processor = definition.supplier()
    if (!this.processor || typeof this.processor.process !== 'function') {
      throw new TopologyError(
        `the supplier of processor ${definition.name} did not return a processor (an object with process())`
      )
    }
    this.context = new NodeContext(this, env)
  }

  process(record: AnyRecord): void | Promise<void> {
    let result: void | Promise<void>
    try {
      result = this.processor.process(record)
    } catch (error) {
      return this.#env.handleFailure('processing', this.name, error)
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(undefined, (error) => this.#env.handleFailure('processing', this.name, error))
    }
  }
}

class NodeContext implements ProcessorContext {
  readonly #node: ProcessorNode
  readonly #env: TaskEnvironment

  constructor(node: ProcessorNode, env: TaskEnvironment) {
    this.#node = node
    this.#env = env
  }

  get applicationId(): string {
    return this.#env.applicationId
  }

  get taskId(): TaskId {
    return this.#env.taskId
  }

  get processorName(): string {
    return this.#node.name
  }

  /** Not part of `ProcessorContext`: what the DSL's emit-on-window-close reads (emit-strategy.ts). */
  get windowCloseEmitIntervalMs(): number {
    return this.#env.windowCloseEmitIntervalMs
  }

  /** Not part of `ProcessorContext`: where emit-on-window-close keeps its last close time across restarts. */
  get processorMetadata(): ProcessorMetadata {
    return this.#env.processorMetadata
  }

  forward(record: AnyRecord, childName?: string): void | Promise<void> {
    return this.#node.forward(this.#env, record, childName)
  }

  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable {
    if (!Number.isInteger(intervalMs) || intervalMs < 1) {
      throw new TopologyError(
        `processor ${this.#node.name}: punctuation interval must be an integer >= 1 ms, got ${intervalMs}`
      )
    }
    if (type !== 'stream-time' && type !== 'wall-clock') {
      throw new TopologyError(
        `processor ${this.#node.name}: punctuation type must be 'stream-time' or 'wall-clock', got ${String(type)}`
      )
    }
    return this.#env.schedule(this.#node.name, intervalMs, type, punctuator)
  }

  recordMetadata(): RecordMetadata | null {
    const current = this.#env.currentRecord
    return current === null ? null : { topic: current.topic, partition: current.partition, offset: current.offset }
  }

  getStateStore<S extends StateStore = StateStore>(name: string): S {
    if (!this.#node.definition.stores.includes(name) && !this.#env.isGlobalStore(name)) {
      throw new TopologyError(
        `processor ${this.#node.name} has no access to state store ${name}; connect it with ` +
          `Topology.addStateStore(builder, '${this.#node.name}') or process(supplier, '${name}')`
      )
    }
    return this.#env.store(name) as S
  }

  currentStreamTimeMs(): number {
    return this.#env.streamTimeMs
  }

  currentSystemTimeMs(): number {
    return this.#env.wallClockMs()
  }

  requestCommit(): void {
    this.#env.requestCommit()
  }

  recordDropped(reason: DroppedRecordReason, message: string): void {
    this.#env.recordDropped(this.#node.name, reason, message)
  }
}

export class SinkNode implements TaskNode {
  readonly name: string
  readonly definition: SinkDefinition
  readonly #env: TaskEnvironment

  constructor(definition: SinkDefinition, env: TaskEnvironment) {
    this.name = definition.name
    this.definition = definition
    this.#env = env
  }

  process(record: AnyRecord): void {
    const env = this.#env
    const { topic: target, keySerde, valueSerde, partitioner } = this.definition
    let topic: string | null = null
    let key: Buffer | null
    let value: Buffer | null
    let partition: number | undefined
    try {
      topic =
        typeof target === 'string'
          ? env.resolveTopic(target)
          : target(record.key, record.value, this.#recordContext(record))
      if (typeof topic !== 'string' || topic.length === 0)
        throw new Error(`the topic name extractor returned ${String(topic)}`)
      if (!Number.isInteger(record.timestamp) || record.timestamp < 0) {
        throw new Error(`invalid timestamp ${record.timestamp}: must be an integer >= 0`)
      }
      key = serialize(keySerde, topic, record, 'key')
      value = serialize(valueSerde, topic, record, 'value')
      if (partitioner) partition = this.#partition(topic, record)
    } catch (error) {
      env.handleFailure('production', this.name, error, topic)
      return
    }
    try {
      env.collector.send(
        { topic, partition, key, value, headers: record.headers, timestamp: record.timestamp },
        { taskId: env.taskId, sinkName: this.name, sourceRecord: env.currentRecord, activity: env.currentActivity }
      )
    } catch (error) {
      throw env.fatal(error)
    }
  }

  #partition(topic: string, record: AnyRecord): number | undefined {
    const count = this.#env.collector.partitionCount(topic)
    if (count === undefined)
      throw new Error(`the partition count of topic ${topic} is unknown, so its partitioner cannot run`)
    const partition = this.definition.partitioner!(topic, record.key, record.value, count)
    if (partition !== undefined && (!Number.isInteger(partition) || partition < 0 || partition >= count)) {
      throw new Error(`the partitioner chose partition ${partition}, but topic ${topic} has partitions 0..${count - 1}`)
    }
    return partition
  }

  #recordContext(record: AnyRecord): RecordContext {
    const current = this.#env.currentRecord
    return {
      topic: current?.topic ?? null,
      partition: current?.partition ?? null,
      offset: current?.offset ?? null,
      timestamp: record.timestamp,
      headers: record.headers
    }
  }
}

function serialize(serde: Serde<unknown>, topic: string, record: AnyRecord, part: 'key' | 'value'): Buffer | null {
  try {
    return serde.serialize(topic, part === 'key' ? record.key : record.value, record.headers)
  } catch (error) {
    if (isSerializationError(error)) throw error.withPart(part)
    throw new SerializationError({ topic, part, reason: (error as Error)?.message ?? String(error) }, { cause: error })
  }
}
