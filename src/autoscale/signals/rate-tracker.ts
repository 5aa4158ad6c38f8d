import { topicPartitionKey } from '../../topic-partition.ts'
import type { GroupRates, GroupSnapshot } from './types.ts'

/**
 * A sliding-window rate over a monotonically growing counter. The policy package owns the estimator (pure, tested
 * there); the tracker only needs these two calls.
 */
export interface RateEstimator {
  add(at: number, cumulative: number): void
  /** Per second over the window ending at `now`, or null when the window cannot say yet. */
  rate(now: number): number | null
}

export type RateEstimatorFactory = (windowMs: number) => RateEstimator

interface PartitionMark {
  end: number
  committed: number | null
}

/**
 * Turns successive snapshots of one group into arrival and commit rates. It keeps two cumulative counters of its own
 * rather than summing offsets: offsets jump for reasons that are not traffic (a partition appears, a topic is
 * recreated, a first commit lands at the end of a backlog, an offset reset), and only growth between two reads of the
 * same partition counts.
 */
export class GroupRateTracker {
  readonly #windowMs: number
  readonly #arrival: RateEstimator
  readonly #commit: RateEstimator
  readonly #marks = new Map<string, PartitionMark>()
  #arrived = 0
  #committed = 0

  constructor(windowMs: number, estimator: RateEstimatorFactory) {
    this.#windowMs = windowMs
    this.#arrival = estimator(windowMs)
    this.#commit = estimator(windowMs)
  }

  observe(snapshot: GroupSnapshot): GroupRates {
    const seen = new Set<string>()
    for (const p of snapshot.partitions) {
      const key = topicPartitionKey(p.topic, p.partition)
      seen.add(key)
      const previous = this.#marks.get(key)
      if (previous) {
        // A shrinking end offset means the topic was deleted and recreated: no traffic, just a new baseline.
        if (p.endOffset > previous.end) this.#arrived += p.endOffset - previous.end
        if (previous.committed !== null && p.committedOffset !== null && p.committedOffset > previous.committed) {
          this.#committed += p.committedOffset - previous.committed
        }
      }
      this.#marks.set(key, { end: p.endOffset, committed: p.committedOffset })
    }
    for (const key of this.#marks.keys()) if (!seen.has(key)) this.#marks.delete(key)

    this.#arrival.add(snapshot.at, this.#arrived)
    this.#commit.add(snapshot.at, this.#committed)
    return {
      arrivalRate: this.#arrival.rate(snapshot.at),
      commitRate: this.#commit.rate(snapshot.at),
      windowSeconds: this.#windowMs / 1000
    }
  }
}
