/**
 * The Prometheus metrics of one Streamlane app, in a registry of its own (several apps in one process never mix, and
 * prom-client's global registry stays the user's). Most values are read from the app at scrape time; the loop
 * observes its own timings once per iteration, and the sinks the end-to-end latency per record, into
 * allocation-free histograms (LoopMetrics). The metrics themselves are listed by group in metric-groups.ts.
 */
import { createHash } from 'node:crypto'
import { Histogram, Registry } from 'prom-client'
import { LoopMetrics } from './loop-metrics.ts'
import { APP_METRIC_GROUPS, type MetricOptions } from './metric-groups.ts'
import type { AppMetricsSource } from './metric-source.ts'
import { withProcessMetrics } from './process-metrics.ts'
import { RebalanceHistory } from './rebalance-history.ts'
import { StoreOperationMetrics } from './store-operation-metrics.ts'

export type { AppMetricsSource, PartitionLag, ProducerStats, StoreRestore, StoreStats } from './metric-source.ts'

export interface AppMetrics {
  /** The app's registry: its own metrics and the process metrics. */
  readonly registry: Registry
  /** What the metrics read from the app (the status report reads it too). */
  readonly source: AppMetricsSource
  /** What the processing loop times as it runs. */
  readonly loop: LoopMetrics
  /** Rebalances: count by cause, duration, the last few. */
  readonly rebalances: RebalanceHistory
  /** Sampled put/get/range latency of the active tasks' stores (the state layer's StoreMetering). */
  readonly storeOperations: StoreOperationMetrics
  /** Starts timing a commit; call the result when it is done (or failed). */
  commitTimer(): () => void
}

/** Names of every metric the app registers besides the process metrics, for docs and tests. */
export const APP_METRIC_NAMES: readonly string[] = [
  ...APP_METRIC_GROUPS.flatMap((group) => group.names),
  'streamlane_app_commit_duration_seconds',
  'streamlane_state_store_operation_duration_seconds'
]

/** A short, stable hash of a topology's description (`topology.describe().toString()`). */
export function topologyHash(description: string): string {
  return createHash('sha256').update(description).digest('hex').slice(0, 12)
}

export function createAppMetrics(source: AppMetricsSource, options: Partial<MetricOptions> = {}): AppMetrics {
  const registry = new Registry()
  const loop = new LoopMetrics()
  const rebalances = new RebalanceHistory()
  const resolved: MetricOptions = {
    applicationId: options.applicationId ?? 'unknown',
    topologyHash: options.topologyHash ?? 'unknown',
    partitionSeries: options.partitionSeries ?? 0
  }
  for (const group of APP_METRIC_GROUPS) group.register({ registry, source, loop, rebalances, options: resolved })
  const storeOperations = new StoreOperationMetrics()
  storeOperations.register(registry)
  const commitDuration = new Histogram({
    name: 'streamlane_app_commit_duration_seconds',
    help: 'Commits: outputs and changelogs acknowledged, stores checkpointed, input offsets committed',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry]
  })
  return {
    registry: withProcessMetrics(registry),
    source,
    loop,
    rebalances,
    storeOperations,
    commitTimer: () => {
      const end = commitDuration.startTimer()
      return () => void end()
    }
  }
}
