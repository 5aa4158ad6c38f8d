/**
 * Per-store operation latency, Kafka Streams' put-, get- and range-latency (state store metrics): the stores of the
 * active tasks time one operation in `sampleEvery` of each kind (src/state/metered-layer.ts) and report it here with
 * the weight of the operations it stands for, so `_count` and `_sum` estimate every operation while the hot path
 * reads the clock for a few. One histogram per store and operation, shared by the tasks that have the store (the
 * store names are the topology's, a closed set); it outlives the tasks, so the counts never go down.
 */
import type { Registry } from 'prom-client'
import { BucketHistogram, registerBucketHistograms } from './bucket-histogram.ts'

export const STORE_OPERATIONS = ['put', 'get', 'range'] as const
export type StoreOperationName = (typeof STORE_OPERATIONS)[number]

/** Seconds: a cached get takes about a microsecond, an LMDB read tens, a long range scan milliseconds. */
export const STORE_LATENCY_BUCKETS: readonly number[] = [
  0.000001, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1
]

/** Time one operation in this many of each kind and store instance (a power of two). */
export const DEFAULT_STORE_SAMPLE_EVERY = 16

type StoreHistograms = Record<StoreOperationName, BucketHistogram>

/** Estimated operations of each kind and the seconds they took, since start. */
export type StoreOperationTotals = Record<StoreOperationName, { count: number; seconds: number }>

export class StoreOperationMetrics {
  readonly sampleEvery: number
  readonly #stores = new Map<string, StoreHistograms>()

  constructor(sampleEvery = DEFAULT_STORE_SAMPLE_EVERY) {
    this.sampleEvery = sampleEvery
  }

  /** The timings of one store, by name (created on first use, then shared by every task with that store). */
  forStore(storeName: string): { record(operation: StoreOperationName, seconds: number, weight: number): void } {
    let histograms = this.#stores.get(storeName)
    if (histograms === undefined) {
      histograms = {
        put: new BucketHistogram(STORE_LATENCY_BUCKETS),
        get: new BucketHistogram(STORE_LATENCY_BUCKETS),
        range: new BucketHistogram(STORE_LATENCY_BUCKETS)
      }
      this.#stores.set(storeName, histograms)
    }
    const own = histograms
    return { record: (operation, seconds, weight) => own[operation].observe(seconds, weight) }
  }

  /** Label sets and histograms, for the metric; stores without an operation of a kind have no series for it. */
  *series(): Iterable<[Record<string, string>, BucketHistogram]> {
    for (const [store, histograms] of this.#stores)
      for (const operation of STORE_OPERATIONS)
        if (histograms[operation].count > 0) yield [{ store, operation }, histograms[operation]]
  }

  /** Per store, each operation's estimated count and total seconds so far (the status page's rates and means). */
  totals(): Map<string, StoreOperationTotals> {
    const out = new Map<string, StoreOperationTotals>()
    for (const [store, h] of this.#stores) {
      const total = (b: BucketHistogram) => ({ count: b.count, seconds: b.sum })
      out.set(store, { put: total(h.put), get: total(h.get), range: total(h.range) })
    }
    return out
  }

  register(registry: Registry): void {
    registerBucketHistograms({
      registry,
      name: 'streamlane_state_store_operation_duration_seconds',
      help: `Store operations of the active tasks by store and operation (put, get, range), 1 in ${this.sampleEvery} timed`,
      labelNames: ['store', 'operation'],
      read: () => this.series()
    })
  }
}
