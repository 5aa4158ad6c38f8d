import type { TaskId } from '../task-id.ts'

/**
 * The contract between processors and stores. Only the lifecycle lives here; what a store can do (key-value, window,
 * session) is up to its implementation, which the state layer provides.
 */
export interface StateStore {
  readonly name: string
  /** Whether the store keeps its data on disk between restarts (and so has a checkpoint). */
  readonly persistent: boolean
  init(context: StateStoreContext): void
  /** Makes every write so far durable; the runtime calls it before it commits input offsets. */
  flush(): void
  close(): void
}

/** What a task tells a store when it opens it. */
export interface StateStoreContext {
  readonly applicationId: string
  readonly taskId: TaskId
  /** `<app.id>-<store>-changelog`, or null when logging is disabled; or a source topic (see below). */
  readonly changelogTopic: string | null
  /**
   * True when `changelogTopic` is a source topic of the topology that doubles as the store's changelog (a table read
   * with `builder.table()`): the store restores from it and checkpoints its offsets, but never writes to it.
   */
  readonly changelogIsSourceTopic?: boolean
}

/** Makes one store instance per task. The builder's name is the store's name. */
export interface StoreBuilder<S extends StateStore = StateStore> {
  readonly name: string
  /** Whether writes go to a changelog topic (default in Streamlane: yes). */
  readonly loggingEnabled: boolean
  /** Topic configs for the changelog (cleanup.policy, retention.ms, ...). */
  readonly changelogConfig: Readonly<Record<string, string>>
  build(): S
}
