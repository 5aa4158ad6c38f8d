import type { Headers } from '../serde/index.ts'

/** What is known about the input record that led to an output: for choosing topics and timestamps. */
export interface RecordContext {
  readonly topic: string | null
  readonly partition: number | null
  readonly offset: number | null
  readonly timestamp: number
  readonly headers: Headers
}

/** A consumed record, deserialized, with the Kafka timestamp: the input of a timestamp extractor. */
export interface ConsumedRecord<K, V> {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
  readonly key: K
  readonly value: V
  readonly headers: Headers
}

/**
 * Chooses a record's event time (epoch ms). `partitionTimeMs` is the largest timestamp seen so far on the record's
 * partition (-1 before any), handy as a fallback. A negative result is an invalid timestamp: the record goes to the
 * deserialization error handler.
 */
export type TimestampExtractor<K = unknown, V = unknown> = (
  record: ConsumedRecord<K, V>,
  partitionTimeMs: number
) => number

/** The default: the timestamp Kafka stored with the record. */
export const recordTimestamp: TimestampExtractor = (record) => record.timestamp

/** Chooses the output topic per record. */
export type TopicNameExtractor<K, V> = (key: K, value: V, context: RecordContext) => string

/**
 * Chooses the output partition. `undefined` leaves it to the producer's default (murmur2 of the key bytes, like
 * Kafka's), which is what co-partitioning with other Kafka clients expects.
 */
export type StreamPartitioner<K, V> = (topic: string, key: K, value: V, partitionCount: number) => number | undefined
