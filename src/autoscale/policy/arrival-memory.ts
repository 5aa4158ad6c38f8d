import type { ScalingPolicyConfig } from './config.ts'
import type { PolicyState } from './state.ts'

/** What the policy remembers of past arrivals: recent rates (to notice a rise) and when bursts started. */

/** A rise in arrivals is measured over at least this long (the HPA's sync period). */
const RISING_INTERVAL_MS = 15_000

export type ArrivalSamples = NonNullable<PolicyState['arrivalSamples']>

/**
 * The arrival rates a rise is measured against: one seen between RISING_INTERVAL_MS and twice that ago (`older`),
 * however often the caller decides; `newer` becomes `older` once it is old enough.
 */
export function shiftArrivalSamples(
  samples: ArrivalSamples | null,
  arrival: number | null,
  now: number
): ArrivalSamples | null {
  if (arrival === null) return null
  if (samples === null) return { older: null, newer: { atMs: now, rate: arrival } }
  if (now - samples.newer.atMs >= RISING_INTERVAL_MS)
    return { older: samples.newer, newer: { atMs: now, rate: arrival } }
  return samples
}

/** Minimum time between two recorded burst starts: a burst whose rate windows catch up in steps is one burst. */
const BURST_MIN_GAP_MS = 60_000
/** Burst starts that make a pattern: two gaps agree on something, one is an anecdote. */
const BURST_PATTERN = 3
/** How far back burst starts are remembered (at least): a pattern older than this says little about the next gap. */
const BURST_MEMORY_MS = 3_600_000

/**
 * Burst starts within memory, with this decision's if a burst starts now. Kept whether or not burst memory is on:
 * recurring bursts also decide whether a large scale-in step may wait less (stabilization.ts).
 */
export function recordBurst(
  previous: readonly number[],
  starting: boolean,
  now: number,
  config: ScalingPolicyConfig
): number[] {
  const memoryMs = Math.max(BURST_MEMORY_MS, 4 * config.burstHoldMaxSeconds * 1000)
  const starts = previous.filter((t) => t >= now - memoryMs)
  const last = starts[starts.length - 1]
  if (starting && (last === undefined || now - last >= BURST_MIN_GAP_MS)) starts.push(now)
  return starts
}

/** Bursts recur: another one started within the last hour before the latest (one burst is an event, two a pattern). */
export function burstsRecur(starts: readonly number[], now: number): boolean {
  return starts.filter((t) => t >= now - BURST_MEMORY_MS).length >= 2
}

/** The scale-in window burst memory asks for: the longest of the last three gaps, capped; 0 without a pattern. */
export function burstHold(starts: readonly number[], config: ScalingPolicyConfig): number {
  if (config.burstHoldMaxSeconds === 0 || starts.length < BURST_PATTERN) return 0
  let longest = 0
  for (let i = Math.max(1, starts.length - 3); i < starts.length; i++) {
    longest = Math.max(longest, starts[i]! - starts[i - 1]!)
  }
  return Math.min(longest, config.burstHoldMaxSeconds * 1000)
}
