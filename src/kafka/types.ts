/** Small value types shared by the admin, the producer and the partition reader. Offsets are `bigint` everywhere. */

import type { TopicPartition } from '../topic-partition.ts'

export type { TopicPartition }

export interface TopicPartitionOffset extends TopicPartition {
  offset: bigint
}

export type IsolationLevel = 'read_uncommitted' | 'read_committed'

/** A record header; Kafka allows repeated keys, so headers are an ordered list, not a map. */
export type RecordHeader = [key: string, value: Buffer]

/** A record to produce. Without `partition`, a keyed record goes where Java's default partitioner would put it. */
export interface ProducerRecord {
  topic: string
  partition?: number
  key?: Buffer | null
  value: Buffer | null
  headers?: RecordHeader[]
  /** Epoch milliseconds; defaults to the time of sending (CreateTime). */
  timestamp?: number
}

/** Where a produced record was written. */
export type RecordMetadata = TopicPartitionOffset

/** A record read from a partition. */
export interface ConsumedRecord {
  topic: string
  partition: number
  offset: bigint
  /** Epoch milliseconds (CreateTime, or LogAppendTime when the topic is configured so). */
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  /** Header values that were null on the wire are given as empty buffers. */
  headers: RecordHeader[]
}
