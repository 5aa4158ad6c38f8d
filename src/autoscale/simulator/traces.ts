import { SimulationInputError } from './errors.ts'
import { exponential, type Random, seededRandom, uniform } from './random.ts'

/** Records per second arriving on the input topic, one value per simulated second. */
export interface LoadTrace {
  name: string
  description: string
  /** rates[t] is the arrival rate during second t; the trace lasts rates.length seconds. */
  rates: readonly number[]
  /** The seed a randomized trace was drawn with (the acceptance table names it). */
  seed?: number
}

export const BUILT_IN_TRACES = ['step', 'spike', 'diurnal', 'bursty', 'burst', 'ramp'] as const
export type BuiltInTraceName = (typeof BUILT_IN_TRACES)[number]

export function isBuiltInTrace(name: string): name is BuiltInTraceName {
  return (BUILT_IN_TRACES as readonly string[]).includes(name)
}

/**
 * The built-in traces, sized for the default scenario (12 partitions, 1000 records/s per replica). Every one is
 * a pure function of the seed; step and spike do not use it.
 */
export function builtInTrace(name: string, seed: number): LoadTrace {
  switch (name) {
    case 'step':
      return stepTrace()
    case 'spike':
      return spikeTrace()
    case 'diurnal':
      return diurnalTrace(seededRandom(seed))
    case 'bursty':
      return burstyTrace(seededRandom(seed))
    case 'burst':
      return singleBurstTrace()
    case 'ramp':
      return rampTrace()
    default:
      throw new SimulationInputError(
        'trace',
        `"${name}" is not a built-in trace (${BUILT_IN_TRACES.join(', ')}) or a .csv file`
      )
  }
}

/** 40 minutes: 1500 rec/s, a step to 5500 rec/s for 15 minutes, back to 1500. */
function stepTrace(): LoadTrace {
  const rates = fill(2400, (t) => (t >= 600 && t < 1500 ? 5500 : 1500))
  return { name: 'step', description: '1500 rec/s, step to 5500 rec/s at 10 min for 15 min, back to 1500', rates }
}

/** 30 minutes at 2000 rec/s with a 90-second spike to 9000 rec/s at 10 minutes. */
function spikeTrace(): LoadTrace {
  const rates = fill(1800, (t) => (t >= 600 && t < 690 ? 9000 : 2000))
  return { name: 'spike', description: '2000 rec/s with a 90 s spike to 9000 rec/s at 10 min', rates }
}

/**
 * 20 minutes at 500 rec/s with one 2-minute burst to 8000 rec/s at 5 minutes: what one burst costs in rebalances on
 * the way out and back in.
 */
function singleBurstTrace(): LoadTrace {
  const rates = fill(1200, (t) => (t >= 300 && t < 420 ? 8000 : 500))
  return { name: 'burst', description: '500 rec/s with one 2-minute burst to 8000 rec/s at 5 min', rates }
}

/**
 * 30 minutes: 1500 rec/s, a 60-second linear ramp to 6000 rec/s at 5 minutes, 10 minutes there, a 60-second ramp
 * back down. A rise the rate windows see in steps, where a step trace shows all of it at once.
 */
function rampTrace(): LoadTrace {
  const low = 1500
  const high = 6000
  const rates = fill(1800, (t) => {
    if (t < 300 || t >= 1020) return low
    if (t < 360) return low + ((high - low) * (t - 300)) / 60
    if (t < 960) return high
    return high - ((high - low) * (t - 960)) / 60
  })
  return {
    name: 'ramp',
    description: '1500 rec/s, 60 s ramp to 6000 rec/s at 5 min, 10 min there, 60 s ramp down',
    rates
  }
}

/** Two compressed days of an hour each: 400 rec/s at night, 8000 at noon, with 5% noise. */
function diurnalTrace(random: Random): LoadTrace {
  const day = 3600
  const rates = fill(2 * day, (t) => {
    const shape = (1 - Math.cos((2 * Math.PI * t) / day)) / 2
    return (400 + 7600 * shape) * uniform(random, 0.95, 1.05)
  })
  return { name: 'diurnal', description: 'two 1-hour "days": 400 rec/s at night to 8000 at noon, 5% noise', rates }
}

/**
 * 90 minutes of noisy 800 rec/s with random bursts (3000-9000 rec/s extra, 20-90 s long, every 5 min on average) and
 * two silent stretches in which the group should go to zero and come back on the first burst after them.
 */
function burstyTrace(random: Random): LoadTrace {
  const duration = 5400
  const base = fill(duration, () => 800 * uniform(random, 0.8, 1.2))
  const bursts: { start: number; end: number; height: number }[] = []
  for (let t = exponential(random, 300); t < duration; t += exponential(random, 300)) {
    const length = Math.round(uniform(random, 20, 90))
    bursts.push({ start: Math.round(t), end: Math.round(t) + length, height: uniform(random, 3000, 9000) })
  }
  // Silence, then a burst arrives out of it: the scale-to-zero path and the first-arrivals path.
  const silences = [
    { start: 1500, end: 2300 },
    { start: 3900, end: 4600 }
  ]
  for (const s of silences) bursts.push({ start: s.end, end: s.end + 60, height: 6000 })
  const rates = base.map((rate, t) => {
    if (silences.some((s) => t >= s.start && t < s.end)) return 0
    let r = rate
    for (const b of bursts) if (t >= b.start && t < b.end) r += b.height
    return r
  })
  return {
    name: 'bursty',
    description: '800 rec/s +-20% with random 20-90 s bursts of +3000..9000 rec/s and two silent stretches',
    rates
  }
}

function fill(duration: number, rateAt: (t: number) => number): number[] {
  const rates = new Array<number>(duration)
  for (let t = 0; t < duration; t++) rates[t] = rateAt(t)
  return rates
}
