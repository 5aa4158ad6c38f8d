/**
 * The Prometheus metrics of one Streamlane app, in a registry of its own (several apps in one process never mix, and
 * prom-client's global registry stays the user's). Almost every value is read from the app at scrape time; only the
 * commit duration is observed as it happens, once per commit.
 */
import { Histogram, Registry } from 'prom-client'
import type { TaskCounters } from '../topology/index.ts'
import { APP_STATES, type AppState } from './app-status.ts'
import { withProcessMetrics } from './process-metrics.ts'
import { scrapedCounter, scrapedGauge } from './scrape-time-metrics.ts'

/** What the metrics read from the app when scraped. Totals only grow: they include the tasks that were closed. */
export interface AppMetricsSource {
  state(): AppState
  /** Undefined before the app started. */
  taskCounters(): TaskCounters | undefined
  committedRecords(): number
  restoredRecords(): number
  remainingRestoreRecords(): number
  activeTasks(): number
  rebalances(): number
  /** Exactly-once producers fenced and replaced (each closed the tasks and rejoined). */
  producerFencings(): number
}

export interface AppMetrics {
  /** The app's registry: its own metrics and the process metrics. */
  readonly registry: Registry
  /** Starts timing a commit; call the result when it is done (or failed). */
  commitTimer(): () => void
}

/** Names of every metric the app registers besides the process metrics, for docs and tests. */
export const APP_METRIC_NAMES = [
  'streamlane_app_state',
  'streamlane_app_active_tasks',
  'streamlane_app_rebalances_total',
  'streamlane_app_producer_fencings_total',
  'streamlane_app_records_committed_total',
  'streamlane_app_commit_duration_seconds',
  'streamlane_task_records_processed_total',
  'streamlane_task_records_skipped_total',
  'streamlane_task_records_dead_lettered_total',
  'streamlane_task_records_dropped_total',
  'streamlane_state_restore_records_total',
  'streamlane_state_restore_remaining_records'
] as const

export function createAppMetrics(source: AppMetricsSource): AppMetrics {
  const registry = new Registry()
  const counters = () => source.taskCounters()
  scrapedGauge({
    registry,
    name: 'streamlane_app_state',
    help: 'The app lifecycle state: 1 for the current one, 0 for the others',
    label: 'state',
    read: () => {
      const current = source.state()
      return Object.fromEntries(APP_STATES.map((state) => [state, state === current ? 1 : 0]))
    }
  })
  scrapedGauge({
    registry,
    name: 'streamlane_app_active_tasks',
    help: 'Active tasks this instance runs (restoring ones included)',
    read: () => source.activeTasks()
  })
  scrapedCounter({
    registry,
    name: 'streamlane_app_rebalances_total',
    help: 'Rebalances this instance took part in, the initial join included',
    read: () => source.rebalances()
  })
  scrapedCounter({
    registry,
    name: 'streamlane_app_producer_fencings_total',
    help: 'Exactly-once producers that were fenced and replaced; each closed its tasks and rejoined the group',
    read: () => source.producerFencings()
  })
  scrapedCounter({
    registry,
    name: 'streamlane_app_records_committed_total',
    help: 'Records processed whose input offsets are committed',
    read: () => source.committedRecords()
  })
  scrapedCounter({
    registry,
    name: 'streamlane_task_records_processed_total',
    help: 'Input records the tasks processed, over every task this instance ran',
    read: () => counters()?.processed ?? 0
  })
  scrapedCounter({
    registry,
    name: 'streamlane_task_records_skipped_total',
    help: 'Records an error handler chose to skip (log and continue, or dead-letter), by stage',
    label: 'stage',
    read: () => counters()?.skipped ?? { deserialization: 0, processing: 0, production: 0 }
  })
  scrapedCounter({
    registry,
    name: 'streamlane_task_records_dead_lettered_total',
    help: 'Records sent to a dead-letter topic',
    read: () => counters()?.deadLettered ?? 0
  })
  scrapedCounter({
    registry,
    name: 'streamlane_task_records_dropped_total',
    help: 'Records processors dropped on purpose (late for their window, null key or value), by reason',
    label: 'reason',
    read: () => counters()?.dropped ?? { late: 0, 'null-key': 0, 'null-value': 0 }
  })
  scrapedCounter({
    registry,
    name: 'streamlane_state_restore_records_total',
    help: 'Changelog records restored into state stores',
    read: () => source.restoredRecords()
  })
  scrapedGauge({
    registry,
    name: 'streamlane_state_restore_remaining_records',
    help: 'Changelog records the restoring tasks still have to read',
    read: () => source.remainingRestoreRecords()
  })
  const commitDuration = new Histogram({
    name: 'streamlane_app_commit_duration_seconds',
    help: 'Commits: outputs and changelogs acknowledged, stores checkpointed, input offsets committed',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry]
  })
  return {
    registry: withProcessMetrics(registry),
    commitTimer: () => {
      const end = commitDuration.startTimer()
      return () => void end()
    }
  }
}
