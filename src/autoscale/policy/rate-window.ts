/**
 * Sliding-window rate of a growing counter (an end offset, a committed offset, or a sum of either), from samples
 * taken at arbitrary times. Pure: a window is an immutable value, `addSample` returns a new one. The simulator and
 * the real signal collector both feed it, so both see the same smoothing.
 */
export interface CounterSample {
  atMs: number
  value: number
}

export interface RateWindow {
  readonly windowMs: number
  /** Oldest first; the oldest may lie just before the window so the rate always spans the full window. */
  readonly samples: readonly CounterSample[]
}

export function createRateWindow(windowMs: number): RateWindow {
  if (!(windowMs > 0)) throw new RangeError(`rate window must be positive, got ${windowMs} ms`)
  return { windowMs, samples: [] }
}

/**
 * Adds a sample. A sample older than the newest is ignored (a late read must not make time run backwards); one at
 * the same time replaces the newest. A counter that shrinks (topic recreated, offsets reset) restarts the window
 * from that sample: the drop is not negative traffic.
 */
export function addSample(window: RateWindow, sample: CounterSample): RateWindow {
  const last = window.samples[window.samples.length - 1]
  if (last && sample.atMs < last.atMs) return window
  if (last && sample.value < last.value) return { windowMs: window.windowMs, samples: [sample] }
  const kept = last && sample.atMs === last.atMs ? window.samples.slice(0, -1) : window.samples.slice()
  kept.push(sample)
  // Keep exactly one sample at or before the window start, so the rate covers the whole window, not a shrinking part.
  const start = sample.atMs - window.windowMs
  let firstInside = 0
  while (firstInside + 1 < kept.length && kept[firstInside + 1]!.atMs <= start) firstInside++
  return { windowMs: window.windowMs, samples: firstInside > 0 ? kept.slice(firstInside) : kept }
}

/**
 * Per-second rate between the oldest and newest sample of the window, or null while it holds fewer than two samples
 * or they span less than a quarter of the window (too short to average out commit bursts).
 */
export function ratePerSecond(window: RateWindow): number | null {
  const first = window.samples[0]
  const last = window.samples[window.samples.length - 1]
  if (!first || !last || last.atMs <= first.atMs) return null
  const spanMs = last.atMs - first.atMs
  if (spanMs < window.windowMs / 4) return null
  return ((last.value - first.value) * 1000) / spanMs
}

/**
 * The same estimator behind the small mutable interface the signal collector uses (`add(at, cumulative)`,
 * `rate(now)`). `rate(now)` returns null when the newest sample is older than one window: a stalled collector must
 * not keep reporting a stale rate.
 */
export function createRateEstimator(windowMs: number): {
  add(at: number, cumulative: number): void
  rate(now: number): number | null
} {
  let window = createRateWindow(windowMs)
  return {
    add(at, cumulative) {
      window = addSample(window, { atMs: at, value: cumulative })
    },
    rate(now) {
      const last = window.samples[window.samples.length - 1]
      if (!last || now - last.atMs > windowMs) return null
      return ratePerSecond(window)
    }
  }
}

/**
 * Rises as fast as a short window, falls as slowly as a long one: the higher of the two rates. A burst shows in the
 * short window within seconds, while a lull must last a whole long window before it lowers the estimate. Scaling
 * out late costs lag; scaling in early costs a rebalance and then another scale-out.
 */
export function riseFastRate(longWindowRate: number | null, shortWindowRate: number | null): number | null {
  if (longWindowRate === null) return shortWindowRate
  if (shortWindowRate === null) return longWindowRate
  return Math.max(longWindowRate, shortWindowRate)
}
