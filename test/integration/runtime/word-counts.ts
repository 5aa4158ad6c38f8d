import { createPartitionReader, OFFSET_EARLIEST } from '../../../src/kafka/partition-reader.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import { testBrokers } from '../../support/kafka.ts'

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

/**
 * Reads a word-count output topic from the start (read_committed) until every word's latest count equals the truth,
 * or the deadline passes; the caller asserts on what came back.
 */
export async function readWordCounts(
  topic: string,
  partitions: number,
  truth: Map<string, bigint>,
  timeoutMs: number
): Promise<WordCounts> {
  const reader = createPartitionReader({ brokers: testBrokers(), isolation: 'read_committed', copyBuffers: true })
  const output = new WordCounts()
  try {
    await reader.assign(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: OFFSET_EARLIEST }))
    )
    const complete = () => [...truth].every(([word, count]) => output.latest.get(word) === count)
    const deadline = Date.now() + timeoutMs
    while (!complete() && Date.now() < deadline) output.add(await reader.poll(500))
    return output
  } finally {
    await reader.close()
  }
}
