/** The state layer: store contracts, builders, backends (memory, LMDB), changelogging, caching, checkpoints. */

export type { BytesBackend, BytesEntry, BytesWrite, ChangelogCheckpoint } from './bytes-store.ts'
export type { BytesFlushListener } from './caching-layer.ts'
export { ChangeLoggingLayer, type ChangelogSink } from './change-logging.ts'
export { CHECKPOINT_FILE, readCheckpointFile, writeCheckpointFile } from './checkpoint-file.ts'
export {
  InvalidStoreArgumentError,
  type LockHolder,
  StateDirectoryLockedError,
  StateIOError,
  StateLifecycleError,
  StateStoreError,
  StoreCorruptedError,
  StoreNotAttachedError,
  StoreNotOpenError,
  TaskDirectoryLockedError
} from './errors.ts'
export { GlobalStores } from './global-stores.ts'
export { type KeyValue, type KeyValueIterator, MappingIterator } from './key-value-iterator.ts'
export { LayeredKeyValueStore } from './key-value-store.ts'
export { LayeredStore } from './layered-store.ts'
export { LMDB_MAX_KEY_BYTES, LmdbBackend } from './lmdb-backend.ts'
export { LMDB_FILE, LmdbEnvironment, type LmdbOptions } from './lmdb-environment.ts'
export { checkLmdbFile, verifyLmdbDeep } from './lmdb-file-check.ts'
export {
  isManagedStateStore,
  type ManagedStateStore,
  type RestoreRecord,
  type StoreServices
} from './managed-store.ts'
export { MemoryBackend } from './memory-backend.ts'
export type { StoreMetering, StoreOperation, StoreOperationTimings } from './metered-layer.ts'
export { readOnlyKeyValueStore, readOnlySessionStore, readOnlyWindowStore } from './read-only-views.ts'
export { ENTRY_OVERHEAD_BYTES, RecordCache } from './record-cache.ts'
export { RestoreWriteThread } from './restore-write-thread.ts'
export { LayeredSessionStore } from './session-store.ts'
export {
  OPEN_MARKER,
  PROCESS_FILE,
  StateDirectory,
  type StateDirectoryOptions,
  type TaskDirectoryInfo,
  type TaskDirectoryLease
} from './state-directory.ts'
export { type StateLogger, stderrStateLogger } from './state-logger.ts'
export {
  CHANGELOG_ADDITIONAL_RETENTION_MS,
  keyValueStoreBuilder,
  type SessionStoreOptions,
  type StoreKind,
  type StoreOptions,
  Stores,
  type StreamlaneStoreBuilder,
  sessionStoreBuilder,
  timestampedKeyValueStoreBuilder,
  timestampedWindowStoreBuilder,
  type WindowStoreOptions,
  windowStoreBuilder
} from './store-builders.ts'
export type {
  CachedStore,
  CacheFlushEvent,
  CacheFlushListener,
  KeyValueStore,
  ReadOnlyKeyValueStore,
  ReadOnlySessionStore,
  ReadOnlyTimestampedKeyValueStore,
  ReadOnlyWindowStore,
  SessionStore,
  TimestampedKeyValueStore,
  TimestampedWindowStore,
  TimeWindow,
  ValueAndTimestamp,
  Windowed,
  WindowStore,
  WindowStoreIterator
} from './stores.ts'
export {
  type ChangelogPartitionToRestore,
  TaskStateManager,
  type TaskStateManagerOptions
} from './task-state-manager.ts'
export { keyValueView, type StoreFamily, sessionView, storeFamily, windowView } from './typed-views.ts'
export { valueAndTimestampSerde } from './value-formats.ts'
export { LayeredWindowStore } from './window-store.ts'
