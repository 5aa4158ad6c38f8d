/**
 * The peer benchmark's output check: the final value per key of one system's output topic against another's. Both
 * forward updates through a record cache that flushes at their own times, so the sequences of updates differ; the
 * last value of each key must not.
 */

/** Keys and values as latin1 strings: lossless for any bytes, and cheap to compare and hash. */
export type FinalValues = Map<string, string>

/** Folds records (in offset order per partition; a key lives in one partition) into the last value per key. */
export function foldFinalValues(
  into: FinalValues,
  records: Iterable<{ key: Buffer | null; value: Buffer | null }>
): FinalValues {
  for (const { key, value } of records) {
    if (key === null) continue
    const k = key.toString('latin1')
    if (value === null) into.delete(k)
    else into.set(k, value.toString('latin1'))
  }
  return into
}

export interface Comparison {
  /** Keys in the reference. */
  keys: number
  /** Reference keys the other lacks, keys only the other has, keys whose final values differ. */
  missing: number
  extra: number
  different: number
  /** One differing key, to start looking from. */
  example?: string
}

export function compareFinalValues(reference: FinalValues, other: FinalValues): Comparison {
  let missing = 0
  let different = 0
  let example: string | undefined
  for (const [key, value] of reference) {
    const theirs = other.get(key)
    if (theirs === undefined) missing++
    else if (theirs !== value) different++
    else continue
    example ??= key
  }
  let extra = 0
  for (const key of other.keys()) {
    if (!reference.has(key)) {
      extra++
      example ??= key
    }
  }
  return { keys: reference.size, missing, extra, different, ...(example === undefined ? {} : { example }) }
}

export const matched = (c: Comparison): boolean => c.missing === 0 && c.extra === 0 && c.different === 0

/** "equal (100,000 keys)" or what differed. */
export function describeComparison(c: Comparison): string {
  const keys = c.keys.toLocaleString('en-US')
  if (matched(c)) return `equal (${keys} keys)`
  return (
    `DIFFERENT: of ${keys} keys, ${c.missing} missing, ${c.extra} extra, ${c.different} with another final value` +
    (c.example === undefined ? '' : ` (e.g. key ${JSON.stringify(c.example)})`)
  )
}
