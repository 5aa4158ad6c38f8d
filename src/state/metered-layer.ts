import type { BytesEntry, BytesLayer } from './bytes-store.ts'

/** The store operations whose latency is measured, as Kafka Streams' put-, get- and range-latency. */
export type StoreOperation = 'put' | 'get' | 'range'

/** Where one store's sampled timings go (the runtime hands in the app's histograms). */
export interface StoreOperationTimings {
  /** One timed operation, standing for `weight` operations of its kind (1 in `weight` is timed). */
  record(operation: StoreOperation, seconds: number, weight: number): void
}

/** Given to the stores of active tasks: which timings a store feeds, and how often it times an operation. */
export interface StoreMetering {
  /** Time one operation in this many, per kind; a power of two (1: every one). */
  readonly sampleEvery: number
  forStore(storeName: string): StoreOperationTimings
}

/**
 * The top byte layer of a store of an active task: times one `get`, `put` and `range` in `sampleEvery` of each kind
 * (counted apart, so a processor that alternates get and put samples both) and reports each timing with the weight
 * of the operations it stands for. The operations in between cost an increment and a mask test. Above the cache, as
 * Kafka Streams' metered store is, so a cache hit is timed as a get too. A range is timed from its creation until it
 * is exhausted or closed, as Kafka Streams does, so it includes the caller's work between steps.
 */
export class MeteredLayer implements BytesLayer {
  readonly #inner: BytesLayer
  readonly #timings: StoreOperationTimings
  readonly #mask: number
  readonly #weight: number
  #gets = 0
  #puts = 0
  #ranges = 0

  constructor(inner: BytesLayer, metering: StoreMetering, storeName: string) {
    const every = metering.sampleEvery
    if (!Number.isInteger(every) || every < 1 || (every & (every - 1)) !== 0)
      throw new RangeError(`store metering: sampleEvery must be a power of two, got ${every}`)
    this.#inner = inner
    this.#timings = metering.forStore(storeName)
    this.#mask = every - 1
    this.#weight = every
  }

  get(key: Buffer): Buffer | undefined {
    if ((++this.#gets & this.#mask) !== 0) return this.#inner.get(key)
    const start = performance.now()
    const value = this.#inner.get(key)
    this.#timings.record('get', (performance.now() - start) / 1000, this.#weight)
    return value
  }

  put(key: Buffer, value: Buffer | null, timestamp: number): void {
    if ((++this.#puts & this.#mask) !== 0) {
      this.#inner.put(key, value, timestamp)
      return
    }
    const start = performance.now()
    this.#inner.put(key, value, timestamp)
    this.#timings.record('put', (performance.now() - start) / 1000, this.#weight)
  }

  range(from: Buffer | undefined, to: Buffer | undefined, reverse: boolean): Iterator<BytesEntry> {
    if ((++this.#ranges & this.#mask) !== 0) return this.#inner.range(from, to, reverse)
    const start = performance.now()
    return timedIterator(this.#inner.range(from, to, reverse), () =>
      this.#timings.record('range', (performance.now() - start) / 1000, this.#weight)
    )
  }

  approximateNumEntries(): number {
    return this.#inner.approximateNumEntries()
  }

  expireBefore(bound: Buffer): void {
    this.#inner.expireBefore(bound)
  }
}

/** `iterator`, calling `done` once when it is exhausted, closed early, or throws. */
function timedIterator(iterator: Iterator<BytesEntry>, done: () => void): Iterator<BytesEntry> {
  let open = true
  const finish = () => {
    if (open) {
      open = false
      done()
    }
  }
  const timed: IterableIterator<BytesEntry> = {
    [Symbol.iterator]() {
      return timed
    },
    next() {
      try {
        const step = iterator.next()
        if (step.done) finish()
        return step
      } catch (error) {
        finish()
        throw error
      }
    },
    return(value?: unknown) {
      finish()
      return iterator.return?.(value) ?? { done: true, value: undefined }
    }
  }
  return timed
}
