/**
 * A partition of a topic, the unit Kafka reads, writes and commits, and the one key every layer keeps per-partition
 * state under. A small shared type (like errors.ts): every folder of src/ may import it.
 */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** A topic-partition as a Map or Set key (`<topic>:<partition>`; a topic name cannot contain ':'). */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`
}
