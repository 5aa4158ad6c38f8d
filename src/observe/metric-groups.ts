/**
 * The app's metrics, in groups: each group names its metrics and registers them. To add metrics (e.g. standby and
 * warm-up tasks), write a group next to these and list it in `APP_METRIC_GROUPS`; the unit test checks that every
 * name a group declares is registered, and the docs test that docs/metrics.md describes it.
 */
import type { Registry } from 'prom-client'
import { APP_STATES } from './app-status.ts'
import { registerBucketHistograms } from './bucket-histogram.ts'
import type { LoopMetrics } from './loop-metrics.ts'
import type { AppMetricsSource, PartitionLag } from './metric-source.ts'
import type { RebalanceHistory } from './rebalance-history.ts'
import { replicaGroup } from './replica-metrics.ts'
import { scrapedCounter, scrapedGauge } from './scrape-time-metrics.ts'
import { STREAMLANE_VERSION } from './version.ts'

export interface MetricOptions {
  applicationId: string
  /** A short hash of the topology's description: instances running different code show different hashes. */
  topologyHash: string
  /**
   * Series per input partition (labels `task`, `topic`, `partition`) for at most this many partitions, the most
   * lagging first; 0 (the default) keeps only the per-instance totals.
   */
  partitionSeries: number
}

export interface MetricContext {
  registry: Registry
  source: AppMetricsSource
  loop: LoopMetrics
  rebalances: RebalanceHistory
  options: MetricOptions
}

export interface MetricGroup {
  readonly names: readonly string[]
  register(context: MetricContext): void
}

const appGroup: MetricGroup = {
  names: [
    'streamlane_app_info',
    'streamlane_app_state',
    'streamlane_app_active_tasks',
    'streamlane_app_records_in_flight',
    'streamlane_app_rebalances_total',
    'streamlane_app_rebalance_duration_seconds',
    'streamlane_app_producer_fencings_total',
    'streamlane_app_records_committed_total'
  ],
  register({ registry, source, rebalances, options }) {
    scrapedGauge({
      registry,
      name: 'streamlane_app_info',
      help: 'Always 1; its labels say which app, Streamlane version and topology this instance runs',
      labels: ['application_id', 'version', 'topology_hash'],
      read: () => [
        [{ application_id: options.applicationId, version: STREAMLANE_VERSION, topology_hash: options.topologyHash }, 1]
      ]
    })
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
    scrapedGauge({
      registry,
      name: 'streamlane_app_records_in_flight',
      help: 'Asynchronous records in flight now, over every task (records of different keys of a task count apart)',
      read: () => source.recordsInFlight?.() ?? 0
    })
    scrapedCounter({
      registry,
      name: 'streamlane_app_rebalances_total',
      help: 'Rebalances this instance took part in, the initial join included, by cause',
      label: 'cause',
      read: () => rebalances.countsByCause()
    })
    registerBucketHistograms({
      registry,
      name: 'streamlane_app_rebalance_duration_seconds',
      help: 'From the start of a rejoin until the new assignment is running on this instance',
      read: () => [[{}, rebalances.durationSeconds]]
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
  }
}

const taskGroup: MetricGroup = {
  names: [
    'streamlane_task_records_processed_total',
    'streamlane_task_punctuations_total',
    'streamlane_task_records_skipped_total',
    'streamlane_task_records_dead_lettered_total',
    'streamlane_task_records_dropped_total',
    'streamlane_task_record_e2e_latency_seconds'
  ],
  register({ registry, source, loop }) {
    const counters = () => source.taskCounters()
    scrapedCounter({
      registry,
      name: 'streamlane_task_records_processed_total',
      help: 'Input records the tasks processed, over every task this instance ran',
      read: () => counters()?.processed ?? 0
    })
    scrapedCounter({
      registry,
      name: 'streamlane_task_punctuations_total',
      help: 'Punctuators that ran (stream time and wall clock)',
      read: () => counters()?.punctuations ?? 0
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
    registerBucketHistograms({
      registry,
      name: 'streamlane_task_record_e2e_latency_seconds',
      help: 'Staleness of records at the sinks: wall clock when a sink sends a record minus its timestamp',
      read: () => [[{}, loop.endToEnd]]
    })
  }
}

const threadGroup: MetricGroup = {
  names: [
    'streamlane_thread_poll_duration_seconds',
    'streamlane_thread_polled_records_total',
    'streamlane_thread_process_duration_seconds',
    'streamlane_thread_punctuate_duration_seconds'
  ],
  register({ registry, loop }) {
    registerBucketHistograms({
      registry,
      name: 'streamlane_thread_poll_duration_seconds',
      help: 'Each poll of the input partitions, the wait for records included',
      read: () => [[{}, loop.poll]]
    })
    scrapedCounter({
      registry,
      name: 'streamlane_thread_polled_records_total',
      help: 'Records the polls returned',
      read: () => loop.polledRecords
    })
    registerBucketHistograms({
      registry,
      name: 'streamlane_thread_process_duration_seconds',
      help: 'Each loop iteration that processed records: the time spent processing them (at most about 100 ms)',
      read: () => [[{}, loop.process]]
    })
    registerBucketHistograms({
      registry,
      name: 'streamlane_thread_punctuate_duration_seconds',
      help: 'Each round of wall-clock punctuation in which a punctuator ran',
      read: () => [[{}, loop.punctuate]]
    })
  }
}

/** The partitions with the most lag first, at most `max` of them. */
function mostLagging(lags: readonly PartitionLag[], max: number): PartitionLag[] {
  return [...lags].sort((a, b) => b.lag - a.lag).slice(0, max)
}

const consumerGroup: MetricGroup = {
  names: [
    'streamlane_consumer_records_lag_max',
    'streamlane_consumer_records_lag_sum',
    'streamlane_consumer_records_lag'
  ],
  register({ registry, source, options }) {
    scrapedGauge({
      registry,
      name: 'streamlane_consumer_records_lag_max',
      help: 'The largest lag of an input partition of this instance: end offset minus the next offset to process',
      read: () => source.partitionLags().reduce((max, p) => Math.max(max, p.lag), 0)
    })
    scrapedGauge({
      registry,
      name: 'streamlane_consumer_records_lag_sum',
      help: 'Lag summed over the input partitions of this instance',
      read: () => source.partitionLags().reduce((sum, p) => sum + p.lag, 0)
    })
    scrapedGauge({
      registry,
      name: 'streamlane_consumer_records_lag',
      help: 'Lag per input partition, for the most lagging ones (metricsPartitionSeries); none by default',
      labels: ['task', 'topic', 'partition'],
      read: () =>
        options.partitionSeries > 0
          ? mostLagging(source.partitionLags(), options.partitionSeries).map((p) => [
              { task: p.task, topic: p.topic, partition: String(p.partition) },
              p.lag
            ])
          : []
    })
  }
}

const stateGroup: MetricGroup = {
  names: [
    'streamlane_state_restore_records_total',
    'streamlane_state_restore_remaining_records',
    'streamlane_state_restoring_tasks',
    'streamlane_state_store_restored_records_total',
    'streamlane_state_store_restore_remaining_records',
    'streamlane_state_store_entries',
    'streamlane_state_cache_hits_total',
    'streamlane_state_cache_misses_total'
  ],
  register({ registry, source }) {
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
    scrapedGauge({
      registry,
      name: 'streamlane_state_restoring_tasks',
      help: 'Active tasks restoring their stores from the changelogs (they process nothing until done)',
      read: () => source.restoringTasks()
    })
    const byStore = () => source.restoreByStore?.() ?? []
    scrapedCounter({
      registry,
      name: 'streamlane_state_store_restored_records_total',
      help: 'Changelog records restored into each store (listed from its first restore)',
      label: 'store',
      read: () => Object.fromEntries(byStore().map((s) => [s.store, s.restored]))
    })
    scrapedGauge({
      registry,
      name: 'streamlane_state_store_restore_remaining_records',
      help: 'Changelog records of each store the restoring tasks still have to read',
      label: 'store',
      read: () => Object.fromEntries(byStore().map((s) => [s.store, s.remaining]))
    })
    scrapedGauge({
      registry,
      name: 'streamlane_state_store_entries',
      help: 'Approximate entries of each key-value store, over the tasks of this instance',
      label: 'store',
      read: () =>
        Object.fromEntries(source.stores().flatMap((s) => (s.entries === undefined ? [] : [[s.store, s.entries]])))
    })
    scrapedCounter({
      registry,
      name: 'streamlane_state_cache_hits_total',
      help: "Store reads the record cache answered (cacheMaxBytes above 0), by store; closed tasks' reads not kept",
      label: 'store',
      read: () => Object.fromEntries(source.stores().map((s) => [s.store, s.cacheHits]))
    })
    scrapedCounter({
      registry,
      name: 'streamlane_state_cache_misses_total',
      help: 'Store reads the record cache could not answer, by store',
      label: 'store',
      read: () => Object.fromEntries(source.stores().map((s) => [s.store, s.cacheMisses]))
    })
  }
}

const producerGroup: MetricGroup = {
  names: [
    'streamlane_producer_records_sent_total',
    'streamlane_producer_send_errors_total',
    'streamlane_producer_unacknowledged_records'
  ],
  register({ registry, source }) {
    scrapedCounter({
      registry,
      name: 'streamlane_producer_records_sent_total',
      help: 'Records the brokers acknowledged: outputs, changelog writes and dead letters',
      read: () => source.producer().sent
    })
    scrapedCounter({
      registry,
      name: 'streamlane_producer_send_errors_total',
      help: "Sends that failed after the producer's own retries; each went to the production error handler",
      read: () => source.producer().sendErrors
    })
    scrapedGauge({
      registry,
      name: 'streamlane_producer_unacknowledged_records',
      help: 'Records handed to the producer, or about to be, that the brokers have not acknowledged yet',
      read: () => source.producer().unacknowledged
    })
  }
}

/** Every group an app registers, in the order they appear on /metrics. */
export const APP_METRIC_GROUPS: readonly MetricGroup[] = [
  appGroup,
  threadGroup,
  taskGroup,
  consumerGroup,
  stateGroup,
  replicaGroup,
  producerGroup
]
