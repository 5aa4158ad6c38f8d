/**
 * Metrics of the standby and warm-up tasks (docs/high-availability.md): how many an instance holds, how far behind
 * their changelogs they are, what they applied, and the probing rebalances this instance asked for.
 */
import type { MetricGroup } from './metric-groups.ts'
import { scrapedCounter, scrapedGauge } from './scrape-time-metrics.ts'

export const replicaGroup: MetricGroup = {
  names: [
    'streamlane_app_replica_tasks',
    'streamlane_state_standby_lag_records',
    'streamlane_state_standby_records_total',
    'streamlane_app_probing_rebalances_total'
  ],
  register({ registry, source }) {
    scrapedGauge({
      registry,
      name: 'streamlane_app_replica_tasks',
      help: 'Standby and warm-up tasks this instance holds, by kind',
      label: 'kind',
      read: () => source.replicaTasks?.() ?? { standby: 0, warmup: 0 }
    })
    scrapedGauge({
      registry,
      name: 'streamlane_state_standby_lag_records',
      help: 'Changelog records the standby and warm-up tasks are behind',
      read: () => source.standbyLagRecords?.() ?? 0
    })
    scrapedCounter({
      registry,
      name: 'streamlane_state_standby_records_total',
      help: 'Changelog records standby and warm-up tasks applied to their stores',
      read: () => source.standbyAppliedRecords?.() ?? 0
    })
    scrapedCounter({
      registry,
      name: 'streamlane_app_probing_rebalances_total',
      help: 'Rebalances this instance asked for because its warm-ups caught up or the probing interval passed',
      read: () => source.probingRebalances?.() ?? 0
    })
  }
}
