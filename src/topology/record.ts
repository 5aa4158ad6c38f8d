import type { Headers } from '../serde/index.ts'

/**
 * A record as processors see it: deserialized key and value, its timestamp (epoch ms, the one the timestamp
 * extractor chose) and headers. Plain and immutable: a processor makes a new one with a spread,
 * `{ ...record, value: next }`. Keys of keyless records and values of tombstones are `null` at run time whatever the
 * declared types say, as in Kafka Streams.
 */
export interface StreamRecord<K, V> {
  readonly key: K
  readonly value: V
  readonly timestamp: number
  readonly headers: Headers
}

/** Where the record being processed was read. `null` inside a punctuator, which runs outside of any record. */
export interface RecordMetadata {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/**
 * A record exactly as consumed from Kafka: what the runtime feeds a task and what dead-letter handlers keep.
 * Offsets are numbers: exact up to 2^53, which a partition at a million records per second reaches in 285 years.
 */
export interface RawRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: Headers
}

export { type TopicPartition, topicPartitionKey } from '../topic-partition.ts'
