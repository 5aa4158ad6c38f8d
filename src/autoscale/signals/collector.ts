import { AdminPool } from './admin-pool.ts'
import type { AdminFactory } from './admin-port.ts'
import { KafkaUnavailableError } from './errors.ts'
import { LruMap } from './lru-map.ts'
import { GroupRateTracker, type RateEstimatorFactory } from './rate-tracker.ts'
import type { InstanceReportStore } from './report-store.ts'
import { readShareGroupSnapshot } from './share-snapshot.ts'
import { readGroupSnapshot, type SnapshotTarget } from './snapshot.ts'
import type { GroupSignals, GroupSnapshot, TaskCount } from './types.ts'

export interface CollectTarget extends SnapshotTarget {
  brokers: string[]
  /** Sliding window for the rates; the collector's default when absent. */
  rateWindowMs?: number
  /** `share`: the group is a share group (KIP-932), read with share-snapshot.ts; a consumer group by default. */
  groupType?: 'consumer' | 'share'
}

export interface SignalCollectorOptions {
  adminFactory: AdminFactory
  estimator: RateEstimatorFactory
  reports: InstanceReportStore
  /** Length of the sliding window the rates are computed over. */
  rateWindowMs?: number
  /** A target not collected for this long loses its rate history. */
  idleMs?: number
  /** Most rate histories (and remembered task counts) kept; the least recently used is evicted first. */
  maxTracked?: number
  /** Called for each history evicted to stay within maxTracked. */
  onEvict?: () => void
  now?: () => number
}

export const DEFAULT_MAX_TRACKED = 2_000

interface Tracked {
  tracker: GroupRateTracker
  lastUsed: number
  lastAt: number
}

/**
 * Signals for any consumer group: offsets and membership from the brokers, rates from the history kept per caller
 * key (one ScaledObject, one metrics-api query), and whatever the group's instances reported about themselves.
 */
export class SignalCollector {
  readonly #admins: AdminPool
  readonly #estimator: RateEstimatorFactory
  readonly #reports: InstanceReportStore
  readonly #rateWindowMs: number
  readonly #idleMs: number
  readonly #now: () => number
  readonly #tracked: LruMap<string, Tracked>
  /** Per cluster and group: the tasks last read from a Streamlane assignment, for while the coordinator shows none. */
  readonly #lastTasks: LruMap<string, { tasks: TaskCount; lastUsed: number }>

  constructor(options: SignalCollectorOptions) {
    this.#now = options.now ?? Date.now
    this.#admins = new AdminPool({ factory: options.adminFactory, now: this.#now })
    this.#estimator = options.estimator
    this.#reports = options.reports
    this.#rateWindowMs = options.rateWindowMs ?? 60_000
    this.#idleMs = options.idleMs ?? 15 * 60_000
    const maxEntries = options.maxTracked ?? DEFAULT_MAX_TRACKED
    const onEvict = options.onEvict ? () => options.onEvict?.() : undefined
    this.#tracked = new LruMap({ maxEntries, ...(onEvict ? { onEvict } : {}) })
    this.#lastTasks = new LruMap({ maxEntries, ...(onEvict ? { onEvict } : {}) })
  }

  /** Rate histories and remembered task counts held (for the state metric). */
  get size(): { tracked: number; lastTasks: number } {
    return { tracked: this.#tracked.size, lastTasks: this.#lastTasks.size }
  }

  /**
   * Reads the group once and folds the read into the rate history of `key`. Callers must not run two collections for
   * the same key at once (the KEDA service serialises them); a read older than the last one folded is not counted.
   */
  async collect(key: string, target: CollectTarget): Promise<GroupSignals> {
    const admin = this.#admins.get(target.brokers)
    let snapshot: GroupSnapshot
    try {
      const read = target.groupType === 'share' ? readShareGroupSnapshot : readGroupSnapshot
      snapshot = await read(admin, target, target.brokers, this.#now)
    } catch (error) {
      if (error instanceof KafkaUnavailableError) this.#admins.discard(target.brokers, admin)
      throw error
    }
    const now = this.#now()
    this.#sweep(now)
    if (snapshot.groupType !== 'share') snapshot = this.#withLastTasks(snapshot, target.brokers, now)
    // The history belongs to what is measured, not only to who asks: a ScaledObject edited to point at another group
    // or topic list starts afresh instead of mixing two groups' offsets into one rate.
    const windowMs = target.rateWindowMs ?? this.#rateWindowMs
    const brokers = [...target.brokers].sort().join(',')
    const trackKey = `${key}|${brokers}|${target.groupId}|${snapshot.topics.join(',')}|${windowMs}|${target.groupType ?? 'consumer'}`
    let tracked = this.#tracked.get(trackKey)
    if (!tracked) {
      tracked = { tracker: new GroupRateTracker(windowMs, this.#estimator), lastUsed: now, lastAt: 0 }
      this.#tracked.set(trackKey, tracked)
    }
    tracked.lastUsed = now
    let rates = { arrivalRate: null as number | null, commitRate: null as number | null, windowSeconds: 0 }
    if (snapshot.at >= tracked.lastAt) {
      tracked.lastAt = snapshot.at
      rates = tracked.tracker.observe(snapshot)
    }
    return { snapshot, rates, instances: this.#reports.summarize(target.groupId, now) }
  }

  /**
   * The coordinator shows members' assignments only while the group is Stable, so during a rebalance (which every
   * scaling step causes) and with no members (at zero) a Streamlane group's tasks are not in the snapshot. The last
   * ones read stand in for them; a Stable group without Streamlane assignments (another app under the same id)
   * forgets them.
   */
  #withLastTasks(snapshot: GroupSnapshot, brokers: readonly string[], now: number): GroupSnapshot {
    const key = `${[...brokers].sort().join(',')}|${snapshot.groupId}`
    if (snapshot.tasks.basis === 'assignment') {
      this.#lastTasks.set(key, { tasks: snapshot.tasks, lastUsed: now })
      return snapshot
    }
    const last = this.#lastTasks.get(key)
    if (!last) return snapshot
    if (snapshot.state === 'Stable' && snapshot.members.length > 0) {
      this.#lastTasks.delete(key)
      return snapshot
    }
    last.lastUsed = now
    return { ...snapshot, tasks: { ...last.tasks, basis: 'last-assignment' } }
  }

  async close(): Promise<void> {
    this.#lastTasks.clear()
    this.#tracked.clear()
    await this.#admins.close()
  }

  #sweep(now: number): void {
    for (const [key, tracked] of [...this.#tracked.entries()]) {
      if (now - tracked.lastUsed > this.#idleMs) this.#tracked.delete(key)
    }
    for (const [key, last] of [...this.#lastTasks.entries()]) {
      if (now - last.lastUsed > this.#idleMs) this.#lastTasks.delete(key)
    }
  }
}
