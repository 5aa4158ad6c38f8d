/**
 * A histogram the hot path can feed without allocating: fixed bucket bounds, counts in a typed array, one loop over
 * the bounds per observation. prom-client's own `observe()` builds a closure and hashes the labels on every call,
 * which is fine once per loop iteration but not once per record (end-to-end latency is observed at every sink).
 *
 * `registerBucketHistograms` exposes one or more of them (one per label value) as an ordinary prom-client histogram
 * in the app's registry, so the text format, merging and `getMetricsAsJSON()` stay prom-client's.
 */
import { Histogram, type Registry } from 'prom-client'

/** Seconds: from 100 µs (one record's processing) to 30 s (a stuck pipeline's staleness). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
]

export class BucketHistogram {
  readonly bounds: readonly number[]
  /** Per bucket, not cumulative; the last one is +Inf. */
  readonly #counts: Float64Array
  sum = 0
  count = 0

  constructor(bounds: readonly number[] = LATENCY_BUCKETS) {
    this.bounds = bounds
    this.#counts = new Float64Array(bounds.length + 1)
  }

  /** `weight`: how many observations this one stands for (a sampled measurement). */
  observe(value: number, weight = 1): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > (bounds[i] as number)) i++
    this.#counts[i] = (this.#counts[i] as number) + weight
    this.sum += value * weight
    this.count += weight
  }

  /** Observations at or below each bound, then the total (+Inf): the Prometheus `_bucket` series. */
  cumulative(): number[] {
    const out: number[] = []
    let acc = 0
    for (const c of this.#counts) {
      acc += c
      out.push(acc)
    }
    return out
  }
}

interface ExportedValue {
  metricName: string
  labels: Record<string, string | number>
  value: number
  sharedLabels: Record<string, string>
}

/** prom-client's Histogram with its values taken from BucketHistograms at scrape time instead of its own. */
class ScrapedBucketHistogram extends Histogram {
  readonly #read: () => Iterable<[Record<string, string>, BucketHistogram]>
  readonly #name: string
  readonly #help: string

  constructor(
    options: { name: string; help: string; labelNames: string[]; registry: Registry },
    read: () => Iterable<[Record<string, string>, BucketHistogram]>
  ) {
    super({ name: options.name, help: options.help, labelNames: options.labelNames, registers: [options.registry] })
    this.#read = read
    this.#name = options.name
    this.#help = options.help
  }

  async getForPromString() {
    const values: ExportedValue[] = []
    const value = (suffix: string, labels: ExportedValue['labels'], v: number): void => {
      values.push({ metricName: `${this.#name}${suffix}`, labels, value: v, sharedLabels: {} })
    }
    for (const [labels, histogram] of this.#read()) {
      const cumulative = histogram.cumulative()
      histogram.bounds.forEach((bound, i) => {
        value('_bucket', { ...labels, le: bound }, cumulative[i] as number)
      })
      value('_bucket', { ...labels, le: '+Inf' }, histogram.count)
      value('_sum', { ...labels }, histogram.sum)
      value('_count', { ...labels }, histogram.count)
    }
    return { name: this.#name, help: this.#help, type: 'histogram' as const, values, aggregator: 'sum' as const }
  }
}

/** One histogram series per entry of `read()` (labels -> histogram); `[[{}, h]]` for an unlabelled one. */
export function registerBucketHistograms(options: {
  registry: Registry
  name: string
  help: string
  labelNames?: string[]
  read: () => Iterable<[Record<string, string>, BucketHistogram]>
}): void {
  new ScrapedBucketHistogram(
    { name: options.name, help: options.help, labelNames: options.labelNames ?? [], registry: options.registry },
    options.read
  )
}
