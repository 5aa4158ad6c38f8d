import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StateLogger } from '../state/index.ts'
import { StateDirectory, TaskStateManager } from '../state/index.ts'
import type { StateStore, StoreBuilder, TaskId, TaskProcessorGraph, TopologyPlan } from '../topology/index.ts'

/** Where the driver's changelog records go: into its output logs, returning nothing. */
export type ChangelogRecorder = (topic: string, key: Buffer, value: Buffer | null, timestamp: number) => void

export interface DriverStateOptions {
  readonly plan: TopologyPlan
  readonly cacheMaxBytes: number
  readonly logger: StateLogger
  readonly record: ChangelogRecorder
  /** The next offset of a topic in the driver's logs (0 when nothing was written). */
  readonly endOffset: (topic: string) => number
}

/** Temp directories not yet removed by `close()`: removed when the process exits, so a forgotten close leaks nothing. */
const leftBehind = new Set<string>()
let exitHookInstalled = false

function removeOnExit(dir: string): void {
  leftBehind.add(dir)
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const path of leftBehind) rmSync(path, { recursive: true, force: true })
  })
}

/**
 * The state of the driver's tasks, as the runtime keeps it: one `TaskStateManager` per task with stores, persistent
 * stores in LMDB under a temporary state directory (created only when some store is persistent, removed on close),
 * changelog records written into the driver's output logs, and commits that flush caches and then make the stores'
 * writes durable with their changelog offsets.
 */
export class DriverState {
  readonly #options: DriverStateOptions
  readonly #managers = new Map<string, TaskStateManager>()
  readonly #directory: StateDirectory | null
  readonly #dir: string | null

  constructor(options: DriverStateOptions) {
    this.#options = options
    const persistent = [...options.plan.storeBuilders.values()].some(
      (builder) => (builder as { persistent?: unknown }).persistent === true
    )
    if (persistent) {
      this.#dir = mkdtempSync(join(tmpdir(), 'streamlane-test-driver-'))
      removeOnExit(this.#dir)
      this.#directory = StateDirectory.open({
        stateDir: this.#dir,
        applicationId: options.plan.applicationId,
        logger: options.logger,
        verifyOnOpen: 'never'
      })
    } else {
      this.#dir = null
      this.#directory = null
    }
  }

  /** The state directory of the driver's persistent stores, or null when every store lives in memory. */
  get stateDir(): string | null {
    return this.#dir
  }

  /** `TaskProcessorGraphOptions.createStore` for a task; `graph()` gives the task's graph once it exists. */
  storeFactory(taskId: TaskId, graph: () => TaskProcessorGraph | undefined): (builder: StoreBuilder) => StateStore {
    return (builder) => {
      let manager = this.#managers.get(taskId.toString())
      if (manager === undefined) {
        manager = new TaskStateManager({
          applicationId: this.#options.plan.applicationId,
          taskId,
          lease: this.#directory?.lockTask(taskId.toString()) ?? null,
          changelogSink: {
            send: (topic, _partition, key, value, timestamp) => this.#options.record(topic, key, value, timestamp)
          },
          cacheMaxBytes: this.#options.cacheMaxBytes,
          // A test's stores die with the driver: no fsync per commit (the driver commits after every record).
          lmdb: { noSync: true },
          logger: this.#options.logger,
          currentTimestamp: () => graph()?.currentTimestampMs ?? -1
        })
        this.#managers.set(taskId.toString(), manager)
      }
      return manager.createStore(builder)
    }
  }

  /**
   * Makes a task's store writes durable, as the runtime does once its changelog records are acknowledged: each
   * changelog's offset is the end of its log; a table whose changelog is its source topic gets the consumed offset.
   * Call after `graph.flush()`.
   */
  commit(graph: TaskProcessorGraph): void {
    const manager = this.#managers.get(graph.taskId.toString())
    if (manager === undefined) return
    const consumed = new Map(graph.consumedOffsets().map((o) => [o.topic, o.offset]))
    const offsets = new Map<string, bigint>()
    for (const { store, topic } of manager.changelogPartitions()) {
      const offset = this.#options.plan.sourceChangelogTopics.has(store)
        ? consumed.get(topic)
        : this.#options.endOffset(topic)
      if (offset !== undefined && offset > 0) offsets.set(topic, BigInt(offset))
    }
    manager.commit(offsets)
  }

  /** Closes every task's state, then removes the temporary directory. */
  async close(): Promise<void> {
    let failure: unknown
    for (const manager of this.#managers.values()) {
      try {
        await manager.close()
      } catch (error) {
        failure ??= error
      }
    }
    this.#managers.clear()
    this.#directory?.close()
    if (this.#dir !== null) {
      rmSync(this.#dir, { recursive: true, force: true })
      leftBehind.delete(this.#dir)
    }
    if (failure !== undefined) throw failure
  }
}
