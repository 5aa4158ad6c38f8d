import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { StateStore, StoreBuilder, TaskId } from '../topology/index.ts'
import type { BytesBackend, ChangelogCheckpoint } from './bytes-store.ts'
import type { ChangelogSink } from './change-logging.ts'
import { checkpointPath, writeCheckpointFile } from './checkpoint-file.ts'
import { StateLifecycleError, StoreCorruptedError } from './errors.ts'
import { LMDB_FILE, LmdbEnvironment, type LmdbOptions } from './lmdb-environment.ts'
import { isManagedStateStore, type ManagedStateStore, type RestoreRecord, type StoreServices } from './managed-store.ts'
import { MemoryBackend } from './memory-backend.ts'
import type { StoreMetering } from './metered-layer.ts'
import { RecordCache } from './record-cache.ts'
import type { RestoreWriteThread } from './restore-write-thread.ts'
import { OPEN_MARKER, type TaskDirectoryLease } from './state-directory.ts'
import { type StateLogger, stderrStateLogger } from './state-logger.ts'

export interface TaskStateManagerOptions {
  readonly applicationId: string
  /** The task; its partition is the partition of every changelog write and checkpoint. */
  readonly taskId: TaskId
  /** The task's directory lease (`StateDirectory.prepareTask`); without one, only in-memory stores can open. */
  readonly lease?: TaskDirectoryLease | null
  /** Where changelog records go; `null` for standby tasks (they only restore) and unlogged test setups. */
  readonly changelogSink?: ChangelogSink | null
  /** The task's record cache budget; 0 (default here; the app config defaults to 10 MiB) forwards every update. */
  readonly cacheMaxBytes?: number
  readonly logger?: StateLogger
  /** The timestamp of the record being processed, for changelog records and cache entries. Default `Date.now`. */
  readonly currentTimestamp?: () => number
  readonly lmdb?: LmdbOptions
  /** Rewrite the checkpoint file after this many changelog records were committed (and on close). Default 10 000. */
  readonly checkpointFileDeltaRecords?: number
  /** Sampled operation timings for the task's stores (active tasks); none by default. */
  readonly metering?: StoreMetering | null
  /**
   * In-memory backends by store name that a standby of this task handed over (`handOverMemoryStores`) when it was
   * promoted: the active task's in-memory stores start from their data and checkpoint, restoring only the rest.
   */
  readonly memoryBackends?: ReadonlyMap<string, BytesBackend>
  /**
   * Write restored batches of persistent stores on this thread while the next ones are read (active tasks; see
   * `restored`). Absent: `restore` writes each batch before it returns.
   */
  readonly restoreWrites?: RestoreWriteThread
}

/** A changelog partition to restore before the task processes anything. */
export interface ChangelogPartitionToRestore {
  readonly store: string
  readonly topic: string
  readonly partition: number
  /**
   * Restore from this offset; `null`: from the beginning (no local state). An in-memory store knows an offset only
   * while it stays open (a standby between restore batches); a reopened one starts from the beginning.
   */
  readonly checkpointOffset: bigint | null
}

/**
 * The state of one task: its stores, their LMDB environment, record cache and changelog checkpoints. The runtime
 * makes one per active or standby task and drives it:
 *
 *   lease = await stateDirectory.prepareTask(id)          check files, wipe corrupted ones
 *   manager = new TaskStateManager({ ..., lease })
 *   graph = new TaskProcessorGraph({ ..., createStore: (b) => manager.createStore(b) }); graph.init()
 *   for each manager.changelogPartitions(): seek to checkpointOffset ?? beginning, read to the end,
 *       manager.restore(topic, batch) per batch                             (not logged, one LMDB commit per batch)
 *   process ... graph.flush()  (cache -> changelog sink)  ... wait for acks / commit the Kafka transaction
 *   manager.commit(nextChangelogOffsets)                                   (pending writes + offsets, one LMDB commit)
 *   on an aborted transaction: manager.abort()  (then rewind the inputs)
 *   graph.close(); await manager.close()
 */
export class TaskStateManager implements StoreServices {
  readonly applicationId: string
  readonly task: TaskId
  /** `<subtopology>_<partition>`. */
  readonly taskId: string
  readonly partition: number
  readonly changelogSink: ChangelogSink | null
  readonly recordCache: RecordCache | null
  readonly logger: StateLogger
  readonly metering: StoreMetering | null
  readonly #lease: TaskDirectoryLease | null
  readonly #options: TaskStateManagerOptions
  readonly #stores: StateStore[] = []
  #env: LmdbEnvironment | null = null
  #recordsSinceCheckpointFile = 0
  #closed = false

  constructor(options: TaskStateManagerOptions) {
    this.#options = options
    this.applicationId = options.applicationId
    this.task = options.taskId
    this.taskId = options.taskId.toString()
    this.partition = options.taskId.partition
    this.#lease = options.lease ?? null
    this.changelogSink = options.changelogSink ?? null
    const cacheMaxBytes = options.cacheMaxBytes ?? 0
    this.recordCache = cacheMaxBytes > 0 ? new RecordCache(cacheMaxBytes) : null
    this.logger = options.logger ?? stderrStateLogger
    this.metering = options.metering ?? null
  }

  currentTimestamp(): number {
    return this.#options.currentTimestamp?.() ?? Date.now()
  }

  /** `TaskProcessorGraphOptions.createStore`: builds the task's instance and attaches this manager to it. */
  createStore(builder: StoreBuilder): StateStore {
    return this.register(builder.build())
  }

  /** Attaches a store built elsewhere (before its `init`); plain `StateStore`s are tracked for `close` only. */
  register<S extends StateStore>(store: S): S {
    if (this.#closed) throw new StateLifecycleError(`task ${this.taskId}: its state is closed`)
    if (isManagedStateStore(store)) store.attach(this)
    this.#stores.push(store)
    return store
  }

  /** The LMDB backend of a persistent store; opens the task's environment on first use. */
  persistentBackend(storeName: string): BytesBackend {
    if (this.#lease === null) {
      throw new StateLifecycleError(
        `task ${this.taskId}: persistent store ${storeName} needs a task directory; pass TaskStateManagerOptions.lease ` +
          '(StateDirectory.prepareTask) or build the store with persistent: false'
      )
    }
    return this.#environment().backend(storeName)
  }

  memoryBackend(storeName: string, location: string): BytesBackend {
    return this.#options.memoryBackends?.get(storeName) ?? new MemoryBackend(location)
  }

  /**
   * Gives the data of the task's in-memory stores away, by store name, for the task's next incarnation in this
   * process (`memoryBackends`); closing this manager then leaves them intact. Persistent stores stay on disk.
   */
  handOverMemoryStores(): Map<string, BytesBackend> {
    const handed = new Map<string, BytesBackend>()
    for (const store of this.#managed()) {
      const backend = store.handOverMemory?.() ?? null
      if (backend !== null) handed.set(store.name, backend)
    }
    return handed
  }

  /**
   * Builds, attaches and initialises a store outside a processor graph: for standby tasks, which only restore, and
   * for tools. `changelogTopic` as the topology names it, or `null` when the store is not logged.
   */
  openStore<S extends StateStore>(builder: StoreBuilder<S>, changelogTopic: string | null): S {
    const store = this.register(builder.build())
    store.init({ applicationId: this.applicationId, taskId: this.task, changelogTopic })
    return store
  }

  /** Reads each store's record cache answered and missed (readable after close too), for metrics. */
  cacheReads(): { store: string; hits: number; misses: number }[] {
    const prefix = `${this.taskId}/`
    return (this.recordCache?.stats() ?? []).map(({ name, hits, misses }) => ({
      store: name.startsWith(prefix) ? name.slice(prefix.length) : name,
      hits,
      misses
    }))
  }

  /**
   * Per store of the task: its approximate entries (stores that count them: key-value ones; undefined for a store
   * that cannot say, or is closed) and the reads its record cache answered and missed, for metrics.
   */
  storeStats(): { store: string; entries: number | undefined; cacheHits: number; cacheMisses: number }[] {
    const reads = new Map(this.cacheReads().map((r) => [r.store, r]))
    return this.#managed().map((store) => ({
      store: store.name,
      entries: approximateEntries(store),
      cacheHits: reads.get(store.name)?.hits ?? 0,
      cacheMisses: reads.get(store.name)?.misses ?? 0
    }))
  }

  /** Every changelog partition of the task's initialised logged stores, with where to restore from. */
  changelogPartitions(): ChangelogPartitionToRestore[] {
    return this.#managed()
      .filter((store) => store.changelogTopic !== null)
      .map((store) => ({
        store: store.name,
        topic: store.changelogTopic!,
        partition: this.partition,
        checkpointOffset: store.checkpointOffset()
      }))
  }

  /**
   * Writes a batch of changelog records into the store logging to `topic`. Pass large batches. With `restoreWrites`,
   * a persistent store's batches are committed on that thread: await `restored()` before the task reads or writes.
   */
  restore(topic: string, records: readonly RestoreRecord[]): void {
    const store = this.#managed().find((s) => s.changelogTopic === topic)
    if (store === undefined) throw new StateLifecycleError(`task ${this.taskId}: no open store logs to ${topic}`)
    store.restoreBatch(records)
  }

  /**
   * Resolves once every restored batch is in LMDB with its checkpoint; rejects (`StateIOError`) when one could not
   * be written: then close the task dirty, and its next open restores from the last batch written.
   */
  async restored(): Promise<void> {
    await this.#env?.settleRestoreWrites()
  }

  /** Flushes every store's cached updates into the changelog sink (and downstream through the flush listeners). */
  flush(): void {
    for (const store of this.#stores) store.flush()
  }

  /**
   * Makes the writes since the last commit durable, with the changelog offsets they correspond to: the next offset
   * after the last record acknowledged per changelog topic (partition = the task's). Call it only after the Kafka
   * transaction committed (exactly-once) or the changelog records were acknowledged (at-least-once). Every LMDB
   * store of the task commits in one LMDB transaction. If it throws, close the task dirty and open it again: the
   * stores are at their previous commit and restore the difference from the changelog.
   */
  commit(changelogOffsets: ReadonlyMap<string, bigint>): void {
    this.#ensureOpen()
    const managed = this.#managed()
    const offsetOf = (store: ManagedStateStore): bigint | null =>
      store.changelogTopic === null ? null : (changelogOffsets.get(store.changelogTopic) ?? null)
    const persistent = managed.filter((store) => store.persistent)
    const commitPersistent = (): void => {
      for (const store of persistent) store.commit(offsetOf(store))
    }
    const before = persistent.map((store) => (offsetOf(store) === null ? null : store.checkpointOffset()))
    if (this.#env !== null && persistent.length > 0) this.#env.transaction(commitPersistent)
    else commitPersistent()
    for (const store of managed) if (!store.persistent) store.commit(offsetOf(store))
    persistent.forEach((store, i) => {
      const offset = offsetOf(store)
      if (offset !== null) this.#recordsSinceCheckpointFile += Number(offset - (before[i] ?? 0n))
    })
    this.#maybeWriteCheckpointFile()
  }

  /**
   * Rewrites the checkpoint file from what LMDB holds now. For standby tasks, whose restored batches move the stores'
   * checkpoints without a commit: other instances' lag reports and a restart read the file.
   */
  writeCheckpointFile(): void {
    this.#ensureOpen()
    if (this.#env === null || this.#lease === null) return
    this.#recordsSinceCheckpointFile = 0
    writeCheckpointFile(checkpointPath(this.#lease.path), this.#env.checkpointsOf(this.#persistentNames()))
  }

  /** Drops every write and cached update since the last commit: the stores are back at their last commit. */
  abort(): void {
    for (const store of this.#managed()) store.abort()
  }

  /** Bytes of uncommitted writes held in memory; commit early when this grows large. */
  get pendingBytes(): number {
    let bytes = 0
    for (const store of this.#managed()) bytes += store.pendingBytes
    return bytes
  }

  /** What the task's persistent stores hold on disk (the checkpoint file's content). */
  checkpoints(): ChangelogCheckpoint[] {
    const result: ChangelogCheckpoint[] = []
    for (const store of this.#managed()) {
      const offset = store.persistent ? store.checkpointOffset() : null
      if (offset !== null) result.push({ topic: store.changelogTopic!, partition: this.partition, offset })
    }
    return result
  }

  /**
   * Closes the stores (those the graph has not closed yet), writes the checkpoint file, closes LMDB and releases the
   * directory. `clean: false` after a failure: no checkpoint file is written (LMDB still holds only committed data).
   */
  async close(options: { readonly clean?: boolean } = {}): Promise<void> {
    if (this.#closed) return
    const clean = options.clean ?? true
    let failure: unknown
    // The checkpoint file below must describe what LMDB holds once the restore write thread is done with it. A batch
    // that failed there leaves LMDB at the one before, with its checkpoint: the next open restores the rest.
    await this.#env?.settleRestoreWrites().catch((error: unknown) => {
      this.logger.warn(
        { task: this.taskId, reason: error instanceof Error ? error.message : String(error) },
        'a restored batch was not written; the next restoration reads it again'
      )
    })
    for (const store of this.#stores) {
      try {
        store.close()
      } catch (error) {
        failure ??= error
      }
    }
    try {
      if (clean && this.#env !== null && this.#lease !== null) {
        writeCheckpointFile(checkpointPath(this.#lease.path), this.#env.checkpointsOf(this.#persistentNames()))
      }
    } catch (error) {
      failure ??= error
    }
    this.#closed = true
    if (this.#env !== null) {
      await this.#env.close()
      this.#env = null
    }
    if (this.#lease !== null) {
      rmSync(join(this.#lease.path, OPEN_MARKER), { force: true })
      this.#lease.release()
    }
    if (failure !== undefined) throw failure
  }

  #environment(): LmdbEnvironment {
    this.#ensureOpen()
    if (this.#env !== null) return this.#env
    const dir = this.#lease!.path
    // Marks the directory in use before the first write; a run that dies leaves it behind (see verifyOnOpen).
    writeFileSync(join(dir, OPEN_MARKER), `${process.pid}\n`)
    let env: LmdbEnvironment
    try {
      env = LmdbEnvironment.open(dir, this.#options.lmdb)
    } catch (error) {
      if (!(error instanceof StoreCorruptedError)) throw error
      // Wipe and open once more; a second failure is not about the file and propagates (no wipe loop).
      this.logger.warn(
        { task: this.taskId, path: error.path, reason: error.message },
        'wiping corrupted task state; it will be restored from the changelog'
      )
      for (const name of [LMDB_FILE, `${LMDB_FILE}-lock`, '.checkpoint']) rmSync(join(dir, name), { force: true })
      env = LmdbEnvironment.open(dir, this.#options.lmdb)
    }
    if (this.#options.restoreWrites) env.writeRestoresOn(this.#options.restoreWrites)
    this.#env = env
    return env
  }

  #maybeWriteCheckpointFile(): void {
    if (this.#env === null || this.#lease === null) return
    const threshold = this.#options.checkpointFileDeltaRecords ?? 10_000
    if (this.#recordsSinceCheckpointFile < threshold) return
    this.#recordsSinceCheckpointFile = 0
    writeCheckpointFile(checkpointPath(this.#lease.path), this.#env.checkpointsOf(this.#persistentNames()))
  }

  #persistentNames(): string[] {
    return this.#managed()
      .filter((store) => store.persistent)
      .map((store) => store.name)
  }

  #managed(): ManagedStateStore[] {
    return this.#stores.filter(isManagedStateStore)
  }

  #ensureOpen(): void {
    if (this.#closed) throw new StateLifecycleError(`task ${this.taskId}: its state is closed`)
  }
}

function approximateEntries(store: StateStore): number | undefined {
  const count = (store as { approximateNumEntries?: () => number }).approximateNumEntries
  if (typeof count !== 'function') return undefined
  try {
    return count.call(store)
  } catch {
    return undefined
  }
}
