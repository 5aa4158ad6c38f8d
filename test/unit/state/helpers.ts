import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangelogSink, StateLogger, TaskDirectoryLease } from '../../../src/state/index.ts'
import { type RestoreWriteThread, StateDirectory, TaskStateManager } from '../../../src/state/index.ts'
import { TaskId } from '../../../src/task-id.ts'
import type { StateStore, StoreBuilder } from '../../../src/topology/state-store.ts'

export const APP = 'app'

export function tempDir(prefix = 'streamlane-state-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export interface LoggedRecord {
  readonly topic: string
  readonly partition: number
  readonly key: Buffer
  readonly value: Buffer | null
  readonly timestamp: number
  /** The offset the "changelog" gave it. */
  readonly offset: bigint
}

/** A changelog sink that keeps records like a topic would, with offsets from 0 per topic. */
export class CapturingSink implements ChangelogSink {
  readonly records: LoggedRecord[] = []
  readonly #next = new Map<string, bigint>()

  send(topic: string, partition: number, key: Buffer, value: Buffer | null, timestamp: number): void {
    const offset = this.#next.get(topic) ?? 0n
    this.#next.set(topic, offset + 1n)
    this.records.push({ topic, partition, key, value, timestamp, offset })
  }

  /** Next offset per topic: what the runtime passes to `commit` once every record is acknowledged. */
  endOffsets(): Map<string, bigint> {
    return new Map(this.#next)
  }

  clear(): void {
    this.records.length = 0
  }
}

export class RecordingLogger implements StateLogger {
  readonly warnings: { fields: Record<string, unknown>; message: string }[] = []
  readonly infos: { fields: Record<string, unknown>; message: string }[] = []

  warn(fields: Record<string, unknown>, message: string): void {
    this.warnings.push({ fields, message })
  }

  info(fields: Record<string, unknown>, message: string): void {
    this.infos.push({ fields, message })
  }
}

export type Backend = 'memory' | 'lmdb'

/** One task with a state directory, a manager and a capturing sink; `open` inits stores like the graph does. */
export class TaskHarness {
  readonly stateDir: string
  readonly sink = new CapturingSink()
  readonly logger = new RecordingLogger()
  readonly taskId: TaskId
  directory: StateDirectory
  lease: TaskDirectoryLease
  manager: TaskStateManager
  timestamp = 1_000
  readonly #cacheMaxBytes: number
  readonly #ownsDir: boolean
  readonly #restoreWrites: RestoreWriteThread | undefined

  constructor(
    options: { cacheMaxBytes?: number; stateDir?: string; taskId?: TaskId; restoreWrites?: RestoreWriteThread } = {}
  ) {
    this.#restoreWrites = options.restoreWrites
    this.#ownsDir = options.stateDir === undefined
    this.stateDir = options.stateDir ?? tempDir()
    this.taskId = options.taskId ?? new TaskId(0, 3)
    this.#cacheMaxBytes = options.cacheMaxBytes ?? 0
    this.directory = StateDirectory.open({ stateDir: this.stateDir, applicationId: APP, logger: this.logger })
    this.lease = this.directory.lockTask(String(this.taskId))
    this.manager = this.#newManager()
  }

  #newManager(): TaskStateManager {
    return new TaskStateManager({
      applicationId: APP,
      taskId: this.taskId,
      lease: this.lease,
      changelogSink: this.sink,
      cacheMaxBytes: this.#cacheMaxBytes,
      logger: this.logger,
      currentTimestamp: () => this.timestamp,
      ...(this.#restoreWrites ? { restoreWrites: this.#restoreWrites } : {})
    })
  }

  open<S extends StateStore>(builder: StoreBuilder<S>): S {
    const store = this.manager.createStore(builder) as S
    store.init({
      applicationId: APP,
      taskId: this.taskId,
      changelogTopic: builder.loggingEnabled ? `${APP}-${builder.name}-changelog` : null
    })
    return store
  }

  /** Flush + commit with the sink's end offsets, as the runtime does after the acks. */
  commit(): void {
    this.manager.flush()
    this.manager.commit(this.sink.endOffsets())
  }

  /** Closes the task (not the directory) and opens a fresh manager on the same directory. */
  async reopenTask(options: { clean?: boolean } = {}): Promise<void> {
    await this.manager.close(options)
    this.lease = this.directory.lockTask(String(this.taskId))
    this.manager = this.#newManager()
  }

  async close(): Promise<void> {
    await this.manager.close()
    this.directory.close()
    if (this.#ownsDir) rmSync(this.stateDir, { recursive: true, force: true })
  }
}

export function collect<T>(iterable: Iterable<T>): T[] {
  return [...iterable]
}
