import type { StateStore } from '../topology/index.ts'
import type { BytesBackend } from './bytes-store.ts'
import type { ChangelogSink } from './change-logging.ts'
import type { StoreMetering } from './metered-layer.ts'
import type { RecordCache } from './record-cache.ts'
import type { StateLogger } from './state-logger.ts'

/**
 * The state layer's extension of the `StateStore` contract: what the task's `TaskStateManager` needs from the stores
 * it manages (restore, commit, abort) and what it gives them (`attach`). A store built by this layer's builders is a
 * `ManagedStateStore`; any other `StateStore` is simply opened and closed.
 */

/** One changelog record to restore. `offset` is its offset in the changelog partition. */
export interface RestoreRecord {
  readonly key: Buffer
  /** `null`: a tombstone, the key is deleted. */
  readonly value: Buffer | null
  readonly timestamp: number
  readonly offset: bigint
}

/** What a store gets from its task when attached (the `TaskStateManager` implements it). */
export interface StoreServices {
  readonly applicationId: string
  readonly taskId: string
  /** The task's partition: every changelog write of the task goes to this partition. */
  readonly partition: number
  readonly changelogSink: ChangelogSink | null
  /** `null` when `cacheMaxBytes` is 0: stores then write through and processors forward every update. */
  readonly recordCache: RecordCache | null
  readonly logger: StateLogger
  /** Sampled put/get/range timings (active tasks of an app); absent: stores are not timed. */
  readonly metering?: StoreMetering | null
  /** The timestamp changelog records and cache entries carry when the value has none: the current record's. */
  currentTimestamp(): number
  /** The LMDB backend of a persistent store, in the task's environment. */
  persistentBackend(storeName: string): BytesBackend
  /**
   * The backend of an in-memory store: the one a standby of the task handed over on its promotion (with its data and
   * checkpoint), else a new, empty one. Absent: always a new one.
   */
  memoryBackend?(storeName: string, location: string): BytesBackend
}

export interface ManagedStateStore extends StateStore {
  readonly managed: true
  /** Called once, before `init`, by `TaskStateManager.createStore`. */
  attach(services: StoreServices): void
  /** After `init`: the changelog topic writes are logged to, or `null` when logging is off. */
  readonly changelogTopic: string | null
  /** The changelog offset to restore from (the next one after the data on disk), or `null`: from the beginning. */
  checkpointOffset(): bigint | null
  /** Writes changelog records straight into the backend (not logged, not cached) with their offset, atomically. */
  restoreBatch(records: readonly RestoreRecord[]): void
  /** Makes the writes since the last commit durable together with `changelogOffset` (next offset), if any. */
  commit(changelogOffset: bigint | null): void
  /** Drops the writes and cached updates since the last commit. */
  abort(): void
  /** Deletes every entry and the checkpoint: the next restore starts from the beginning of the changelog. */
  wipe(): void
  /** Bytes of uncommitted writes this store holds in memory. */
  readonly pendingBytes: number
  /**
   * An in-memory store gives its backend (data and checkpoint) away, so that the task's next incarnation in this
   * process (a standby promoted to active) starts from it instead of the changelog's beginning; closing the store
   * then leaves it intact. `null` for a persistent store (its data is on disk anyway) or one that is not open.
   */
  handOverMemory?(): BytesBackend | null
}

export function isManagedStateStore(store: StateStore): store is ManagedStateStore {
  return (store as Partial<ManagedStateStore>).managed === true
}
