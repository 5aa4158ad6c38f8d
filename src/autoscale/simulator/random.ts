/**
 * A small seeded PRNG (mulberry32): the same seed gives the same sequence on every machine and Node version, which
 * is what makes a simulated table reproducible. Not for anything that needs real randomness.
 */
export type Random = () => number

export function seededRandom(seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Uniform in [min, max). */
export function uniform(random: Random, min: number, max: number): number {
  return min + (max - min) * random()
}

/** Exponentially distributed with the given mean (gaps between independent events). */
export function exponential(random: Random, mean: number): number {
  return -mean * Math.log(1 - random())
}
