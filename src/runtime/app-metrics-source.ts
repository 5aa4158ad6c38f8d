/**
 * The running app as the metrics read it (observe's AppMetricsSource): every value is read at scrape time from what
 * the runtime keeps anyway, and is 0 (or empty) before start() connected.
 */
import type { AppMetricsSource } from '../observe/index.ts'
import type { AppState } from './app-state.ts'
import type { RunningApp } from './running-app.ts'
import { inputLags, storeStats } from './task-observation.ts'

export function appMetricsSource(
  app: { readonly state: AppState },
  running: () => RunningApp | undefined
): AppMetricsSource {
  return {
    state: () => app.state,
    taskCounters: () => running()?.tasks.counterTotals(),
    committedRecords: () => running()?.committer.committedRecords ?? 0,
    restoredRecords: () => running()?.restorer?.totalRestored ?? 0,
    remainingRestoreRecords: () => running()?.restorer?.remainingRecords ?? 0,
    activeTasks: () => running()?.tasks.taskIds.length ?? 0,
    recordsInFlight: () => running()?.tasks.inFlight?.records ?? 0,
    restoringTasks: () => running()?.restorer?.restoringTasks ?? 0,
    producerFencings: () => running()?.committer.fencings ?? 0,
    partitionLags: () => {
      const r = running()
      return r ? inputLags(r.tasks, r.reader) : []
    },
    stores: () => {
      const r = running()
      return r ? storeStats(r.tasks) : []
    },
    replicaTasks: () => running()?.replicas?.standbys.counts() ?? { standby: 0, warmup: 0 },
    standbyLagRecords: () => running()?.replicas?.standbys.totalLag() ?? 0,
    standbyAppliedRecords: () => running()?.replicas?.standbys.appliedTotal ?? 0,
    probingRebalances: () => running()?.replicas?.probingRebalances ?? 0,
    restoreByStore: () => {
      const restorer = running()?.restorer
      if (!restorer) return []
      const remaining = restorer.remainingByStore()
      return [...restorer.restoredByStore].map(([store, restored]) => ({
        store,
        restored,
        remaining: remaining.get(store) ?? 0
      }))
    },
    producer: () => {
      const collector = running()?.collector
      return {
        sent: collector?.sent ?? 0,
        sendErrors: collector?.sendErrors ?? 0,
        unacknowledged: collector?.unacknowledged ?? 0
      }
    }
  }
}
