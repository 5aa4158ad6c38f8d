import type { ConsumedRecord } from '../../../src/kafka/types.ts'

/**
 * The word-count example's output followed in offset order: each word's latest count, and every update that
 * repeats or goes back (under exactly-once, work of an aborted transaction made visible).
 */
export class WordCounts {
  readonly latest = new Map<string, bigint>()
  readonly notIncreasing: string[] = []

  /** Takes records of the output topic (key the word, value an 8-byte count), in order per partition. */
  add(records: Iterable<ConsumedRecord>): this {
    for (const record of records) {
      const word = record.key!.toString()
      const count = record.value!.readBigInt64BE(0)
      const previous = this.latest.get(word) ?? 0n
      if (count <= previous) this.notIncreasing.push(`${word}: ${previous} then ${count}`)
      this.latest.set(word, count)
    }
    return this
  }
}
