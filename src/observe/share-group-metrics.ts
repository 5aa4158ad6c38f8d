/**
 * Metrics of an app on a share group (docs/share-groups.md): records delivered and how each was acknowledged, lock
 * renewals, redeliveries, records in flight. Read from the app's plain counters at scrape time, like the other
 * runtime metrics; the process metrics are merged in.
 */
import { Registry } from 'prom-client'
import { withProcessMetrics } from './process-metrics.ts'
import { type ScrapedValue, scrapedCounter, scrapedGauge } from './scrape-time-metrics.ts'
import { STREAMLANE_VERSION } from './version.ts'

/** What a share-group app counts (ShareGroupApp.counters), each a total since start. */
export interface ShareGroupCounters {
  /** Records taken from the group (redeliveries included). */
  delivered: number
  /** Of those, records with a delivery count above 1. */
  redelivered: number
  accepted: number
  released: number
  rejected: number
  deadLettered: number
  /** Acquisition locks renewed (KIP-1222), and renewals the broker refused (the lock had expired). */
  renewed: number
  renewFailed: number
}

/** What the metrics read from the app (ShareGroupApp's counters and state). */
export interface ShareGroupMetricsSource {
  applicationId: string
  counters: () => ShareGroupCounters
  inFlight: () => number
  concurrency: number
  /** Partitions the group assigns to this instance (shared with the other members). */
  assignedPartitions: () => number
}

/** One share-group metric: registered from this definition, and named by it for the docs and tests. */
interface ShareGroupMetric {
  kind: 'counter' | 'gauge'
  name: string
  help: string
  label?: string
  labels?: string[]
  read: (source: ShareGroupMetricsSource) => ScrapedValue
}

const SHARE_GROUP_METRICS: readonly ShareGroupMetric[] = [
  {
    kind: 'gauge',
    name: 'streamlane_app_info',
    help: 'Always 1; its labels say which app and Streamlane version this instance runs, on which kind of group',
    labels: ['application_id', 'version', 'group_type'],
    read: (source) => [[{ application_id: source.applicationId, version: STREAMLANE_VERSION, group_type: 'share' }, 1]]
  },
  {
    kind: 'counter',
    name: 'streamlane_share_records_delivered_total',
    help: 'Records the share group handed to this instance, redeliveries included',
    read: (source) => source.counters().delivered
  },
  {
    kind: 'counter',
    name: 'streamlane_share_records_redelivered_total',
    help: 'Records handed to this instance with a delivery count above 1 (released, or their lock expired elsewhere)',
    read: (source) => source.counters().redelivered
  },
  {
    kind: 'counter',
    name: 'streamlane_share_records_acknowledged_total',
    help: 'Records this instance acknowledged, by type: accept (processed), release (redeliver), reject (never again)',
    label: 'type',
    read: (source) => {
      const c = source.counters()
      return { accept: c.accepted, release: c.released, reject: c.rejected }
    }
  },
  {
    kind: 'counter',
    name: 'streamlane_share_records_dead_lettered_total',
    help: 'Records written to the dead-letter topic after failing their last allowed delivery',
    read: (source) => source.counters().deadLettered
  },
  {
    kind: 'counter',
    name: 'streamlane_share_lock_renewals_total',
    help: 'Acquisition lock renewals of records in flight (KIP-1222), by outcome',
    label: 'outcome',
    read: (source) => {
      const c = source.counters()
      return { renewed: c.renewed, refused: c.renewFailed }
    }
  },
  {
    kind: 'gauge',
    name: 'streamlane_share_records_in_flight',
    help: 'Records being processed now (at most streamlane_share_concurrency)',
    read: (source) => source.inFlight()
  },
  {
    kind: 'gauge',
    name: 'streamlane_share_concurrency',
    help: 'Processing slots of this instance (shareGroup.concurrency)',
    read: (source) => source.concurrency
  },
  {
    kind: 'gauge',
    name: 'streamlane_share_assigned_partitions',
    help: 'Partitions the share group assigns to this instance (other members share them)',
    read: (source) => source.assignedPartitions()
  }
]

export const SHARE_GROUP_METRIC_NAMES: readonly string[] = SHARE_GROUP_METRICS.map((metric) => metric.name)

export function createShareGroupMetrics(source: ShareGroupMetricsSource): Registry {
  const registry = new Registry()
  for (const { kind, read, ...metric } of SHARE_GROUP_METRICS) {
    const register = kind === 'counter' ? scrapedCounter : scrapedGauge
    register({ registry, ...metric, read: () => read(source) })
  }
  return withProcessMetrics(registry)
}
