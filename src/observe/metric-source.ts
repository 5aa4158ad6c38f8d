/**
 * What the metrics and the status page read from a running app, in shapes observe owns (so observe never imports the
 * runtime). Everything here is read when Prometheus scrapes or the page asks: plain numbers the runtime keeps anyway.
 */
import type { TaskCounters } from '../topology/index.ts'
import type { AppState } from './app-status.ts'

/** How far one input partition of an active task is behind its end (last stable offset or high watermark). */
export interface PartitionLag {
  task: string
  topic: string
  partition: number
  /** End offset minus the next offset the task processes; 0 when caught up. */
  lag: number
}

/** One state store summed over the tasks of this instance. */
export interface StoreStats {
  store: string
  /** Approximate entries (key-value stores; window and session stores do not count theirs). */
  entries: number | undefined
  /** Reads answered by the record cache, and reads that went to the store below it. */
  cacheHits: number
  cacheMisses: number
}

export interface ProducerStats {
  /** Records the brokers acknowledged (outputs, changelogs, dead letters). */
  sent: number
  /** Sends that failed after the producer's own retries; each went to the production error handler. */
  sendErrors: number
  /** Records handed to the producer or waiting to be, not acknowledged yet. */
  unacknowledged: number
}

/** What the metrics read from the app when scraped. Totals only grow: they include the tasks that were closed. */
export interface AppMetricsSource {
  state(): AppState
  /** Undefined before the app started. */
  taskCounters(): TaskCounters | undefined
  committedRecords(): number
  restoredRecords(): number
  remainingRestoreRecords(): number
  activeTasks(): number
  /** Asynchronous records in flight now, over every task (docs/slow-processing.md). */
  recordsInFlight?(): number
  /** Active tasks still restoring their stores. */
  restoringTasks(): number
  /** Exactly-once producers fenced and replaced (each closed the tasks and rejoined). */
  producerFencings(): number
  partitionLags(): readonly PartitionLag[]
  stores(): readonly StoreStats[]
  producer(): ProducerStats
  /** Standby and warm-up tasks held (docs/high-availability.md); absent for apps without state. */
  replicaTasks?(): { standby: number; warmup: number }
  /** Changelog records the standby and warm-up tasks are behind. */
  standbyLagRecords?(): number
  /** Changelog records standby and warm-up tasks applied since start. */
  standbyAppliedRecords?(): number
  /** Rebalances this instance asked for because its warm-ups caught up or the probing interval passed. */
  probingRebalances?(): number
  /**
   * Restoration by store: changelog records restored since start (a store is listed from its first restore), and
   * what the restoring tasks still have to read of it; absent for apps without state.
   */
  restoreByStore?(): readonly StoreRestore[]
}

export interface StoreRestore {
  store: string
  restored: number
  remaining: number
}
