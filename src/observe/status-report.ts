/**
 * `GET /status`: what the status page shows, as JSON for scripts. Built when asked, from what the app keeps anyway;
 * observe owns the shape (the runtime fills `AppStatusSource`), so observe never imports the runtime.
 */

import type { PartitionLag, StoreStats } from './metric-source.ts'
import type { AppMetrics } from './metrics.ts'
import type { RebalanceRecord } from './rebalance-history.ts'
import type { StoreOperationTotals } from './store-operation-metrics.ts'
import type { TopologyGraph } from './topology-graph.ts'
import { STREAMLANE_VERSION } from './version.ts'

/** How far a restoring task is (the latest restore progress report of the task). */
export interface TaskRestoreStatus {
  recordsDone: number
  recordsTotal: number
  recordsPerSecond: number
  finished: boolean
}

export interface TaskStatus {
  id: string
  /**
   * `active` processes; `restoring` is active but still catching up with its changelogs; `standby` and `warmup` only
   * apply their changelogs (a warm-up becomes active here once caught up).
   */
  kind: 'active' | 'restoring' | 'standby' | 'warmup'
  /** Input partitions with their lag (active tasks), none for a standby. */
  partitions: { topic: string; partition: number; lag: number | null }[]
  /** Input records processed by this task while here (active tasks). */
  processed: number | null
  /** Changelog records behind (standby and warm-up tasks), null when not known yet. */
  changelogLag: number | null
  restore: TaskRestoreStatus | null
}

/** A store over this instance's tasks: size, cache reads, restoration and its operations' counts and seconds. */
export interface StoreStatus extends StoreStats {
  restored: number
  restoreRemaining: number
  /** Estimated from the sampled timings; rates and mean latencies are differences between two answers. */
  operations: StoreOperationTotals | null
}

export interface AppStatus {
  /** Epoch milliseconds when this was built: rates are differences between two answers over their time. */
  time: number
  application: { id: string; version: string; topologyHash: string; processId: string; state: string }
  membership: { memberId: string | null; generation: number | null; rebalanceInProgress: boolean }
  totals: {
    processed: number
    committed: number
    restored: number
    restoreRemaining: number
    sent: number
    sendErrors: number
    skipped: number
    dropped: number
    deadLettered: number
    punctuations: number
  }
  lag: { max: number; sum: number }
  tasks: TaskStatus[]
  stores: StoreStatus[]
  rebalances: RebalanceRecord[]
  /** `topology.describe()` as text. */
  topology: string
  /** The same as a graph laid out in columns, drawn by the status page. */
  topologyGraph: TopologyGraph
}

/** What the status report reads from the app, besides what its metrics already read. */
export interface AppStatusSource {
  applicationId: string
  topologyHash: string
  topology: string
  /** Computed once: `topologyGraph(topology.describe())`. */
  topologyGraph: TopologyGraph
  processId(): string
  membership(): AppStatus['membership']
  /** Active tasks: id, whether restoring, input partitions, records processed. */
  activeTasks(): {
    id: string
    restoring: boolean
    partitions: readonly { topic: string; partition: number }[]
    processed: number
  }[]
  /** Standby and warm-up tasks with the changelog records they are behind, undefined when not known yet. */
  replicaTasks(): readonly { id: string; kind: 'standby' | 'warmup'; lag: bigint | undefined }[]
  restoreProgress(taskId: string): TaskRestoreStatus | undefined
}

function sum(values: Readonly<Record<string, number>>): number {
  return Object.values(values).reduce((a, b) => a + b, 0)
}

function storeStatus(metrics: Pick<AppMetrics, 'source' | 'storeOperations'>): StoreStatus[] {
  const restores = new Map((metrics.source.restoreByStore?.() ?? []).map((r) => [r.store, r]))
  const operations = metrics.storeOperations.totals()
  return metrics.source.stores().map((stats) => ({
    ...stats,
    restored: restores.get(stats.store)?.restored ?? 0,
    restoreRemaining: restores.get(stats.store)?.remaining ?? 0,
    operations: operations.get(stats.store) ?? null
  }))
}

export function buildAppStatus(
  source: AppStatusSource,
  metrics: Pick<AppMetrics, 'source' | 'rebalances' | 'storeOperations'>
): AppStatus {
  const app = metrics.source
  const counters = app.taskCounters()
  const producer = app.producer()
  const lags = app.partitionLags()
  const lagOf = new Map<string, PartitionLag>(lags.map((l) => [`${l.topic}\u0000${l.partition}`, l]))
  const tasks: TaskStatus[] = source.activeTasks().map((task) => ({
    id: task.id,
    kind: task.restoring ? 'restoring' : 'active',
    partitions: task.partitions.map(({ topic, partition }) => ({
      topic,
      partition,
      lag: lagOf.get(`${topic}\u0000${partition}`)?.lag ?? null
    })),
    processed: task.processed,
    changelogLag: null,
    restore: source.restoreProgress(task.id) ?? null
  }))
  for (const { id, kind, lag } of source.replicaTasks()) {
    tasks.push({
      id,
      kind,
      partitions: [],
      processed: null,
      changelogLag: lag === undefined ? null : Number(lag),
      restore: null
    })
  }
  tasks.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }))
  return {
    time: Date.now(),
    application: {
      id: source.applicationId,
      version: STREAMLANE_VERSION,
      topologyHash: source.topologyHash,
      processId: source.processId(),
      state: app.state()
    },
    membership: source.membership(),
    totals: {
      processed: counters?.processed ?? 0,
      committed: app.committedRecords(),
      restored: app.restoredRecords(),
      restoreRemaining: app.remainingRestoreRecords(),
      sent: producer.sent,
      sendErrors: producer.sendErrors,
      skipped: counters ? sum(counters.skipped) : 0,
      dropped: counters ? sum(counters.dropped) : 0,
      deadLettered: counters?.deadLettered ?? 0,
      punctuations: counters?.punctuations ?? 0
    },
    lag: { max: lags.reduce((m, l) => Math.max(m, l.lag), 0), sum: lags.reduce((s, l) => s + l.lag, 0) },
    tasks,
    stores: storeStatus(metrics),
    rebalances: [...metrics.rebalances.recent()].reverse(),
    topology: source.topology,
    topologyGraph: source.topologyGraph
  }
}
