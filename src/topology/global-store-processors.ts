import { TaskId } from '../task-id.ts'
import { forEachInOrder, type MaybePromise } from './maybe-async.ts'
import type { Processor, ProcessorContext } from './processor.ts'
import type { RawRecord, RecordMetadata } from './record.ts'
import { decodeRecord } from './record-decoder.ts'
import type { StateStore } from './state-store.ts'
import type { GlobalStoreDefinition, GlobalStoreProcessorDefinition } from './topology.ts'
import { TopologyError } from './topology-errors.ts'

export interface GlobalStoreProcessorsOptions {
  readonly applicationId: string
  /** The topology's global stores (`plan.globalStores`); only those with a processor are run here. */
  readonly definitions: ReadonlyMap<string, GlobalStoreDefinition>
  /** The open global stores, by name. */
  readonly stores: ReadonlyMap<string, StateStore>
  readonly wallClock: () => number
}

/** Global state belongs to no task; its processors see task 0_0, the owner the global stores are opened with. */
const GLOBAL_TASK = new TaskId(0, 0)

/**
 * Runs the update processors of global stores added with one (Kafka Streams' `addGlobalStore` with a
 * `ProcessorSupplier`, its `GlobalStateUpdateTask`): one processor per store and process, fed every record of the
 * store's topic, deserialized, in the order read. The processor may read and write every global store and forward
 * nothing; it cannot schedule punctuation. Whoever reads the topic (the runtime's global state updater, the test
 * driver) hands the records over with `process` and commits the stores after.
 */
export class GlobalStoreProcessors {
  readonly #running = new Map<string, RunningGlobalProcessor>()

  constructor(options: GlobalStoreProcessorsOptions) {
    for (const [store, definition] of options.definitions) {
      if (definition.processor === undefined) continue
      this.#running.set(store, new RunningGlobalProcessor(definition.processor, options))
    }
  }

  /** Whether the store is written by its processor (otherwise its topic's bytes go in as they are). */
  has(store: string): boolean {
    return this.#running.has(store)
  }

  /** Feeds records of the store's topic to its processor in order, waiting for asynchronous ones. */
  process(store: string, records: readonly RawRecord[]): MaybePromise<void> {
    const running = this.#running.get(store)
    if (running === undefined) throw new TopologyError(`global store ${store} has no update processor`)
    return forEachInOrder(records, (record) => running.process(record))
  }

  async close(): Promise<void> {
    for (const running of this.#running.values()) await running.close()
  }
}

class RunningGlobalProcessor {
  readonly #definition: GlobalStoreProcessorDefinition
  readonly #processor: Processor<unknown, unknown, void, void>
  #current: RawRecord | null = null
  #partitionTimes = new Map<number, number>()
  #streamTimeMs = -1

  constructor(definition: GlobalStoreProcessorDefinition, options: GlobalStoreProcessorsOptions) {
    this.#definition = definition
    this.#processor = definition.supplier()
    this.#processor.init?.(this.#context(options))
  }

  process(raw: RawRecord): MaybePromise<void> {
    const partitionTime = this.#partitionTimes.get(raw.partition) ?? -1
    const { key, value, timestamp } = decodeRecord(raw, this.#definition.source, partitionTime)
    this.#partitionTimes.set(raw.partition, Math.max(partitionTime, timestamp))
    this.#streamTimeMs = Math.max(this.#streamTimeMs, timestamp)
    this.#current = raw
    return this.#processor.process({ key, value, timestamp, headers: raw.headers })
  }

  async close(): Promise<void> {
    await this.#processor.close?.()
  }

  #context(options: GlobalStoreProcessorsOptions): ProcessorContext<void, void> {
    const name = this.#definition.name
    const unsupported = (what: string) => (): never => {
      throw new TopologyError(`global store processor ${name}: ${what} is not supported in a global store's processor`)
    }
    return {
      applicationId: options.applicationId,
      taskId: GLOBAL_TASK,
      processorName: name,
      forward: unsupported('forward()'),
      schedule: unsupported('schedule()'),
      recordMetadata: (): RecordMetadata | null => {
        const current = this.#current
        return current === null ? null : { topic: current.topic, partition: current.partition, offset: current.offset }
      },
      getStateStore: <S extends StateStore = StateStore>(store: string): S => {
        const found = options.stores.get(store)
        if (found === undefined) {
          throw new TopologyError(`global store processor ${name}: no global store named ${store}`)
        }
        return found as S
      },
      currentStreamTimeMs: () => this.#streamTimeMs,
      currentSystemTimeMs: options.wallClock,
      requestCommit: () => {},
      recordDropped: () => {}
    }
  }
}
