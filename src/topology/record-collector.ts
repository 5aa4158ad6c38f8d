import type { Headers } from '../serde/index.ts'
import type { TaskId } from '../task-id.ts'
import type { RawRecord } from './record.ts'

/**
 * What a task was doing when it produced a record or a processor failed, for error messages: processing an input
 * record, running a punctuator, or flushing its store caches at commit (a cached record no longer knows the input
 * record it came from).
 */
export type TaskActivity = 'processing' | 'punctuating' | 'flushing'

/** A record ready for the producer: serialized, with its topic resolved. */
export interface ProducedRecord {
  readonly topic: string
  /** Undefined: the producer chooses (murmur2 of the key bytes, Kafka's default). */
  readonly partition?: number | undefined
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: Headers
  readonly timestamp: number
}

/** Why a record is being sent: lets the runtime apply the production handler to broker-side failures. */
export interface ProducedRecordOrigin {
  readonly taskId: TaskId
  /** The sink that wrote it, or null for a dead-letter record. */
  readonly sinkName: string | null
  /** The input record being processed, or null when a punctuator or a store cache flush produced it. */
  readonly sourceRecord: RawRecord | null
  /** What the task was doing; tells a punctuator from a cache flush when `sourceRecord` is null. */
  readonly activity?: TaskActivity
}

/**
 * Where a task's output goes. The runtime implements it over its producer (send without waiting; acknowledgements
 * are awaited before offsets are committed); the test driver implements it in memory. `send` throws only for
 * failures that must stop the task.
 */
export interface RecordCollector {
  send(record: ProducedRecord, origin: ProducedRecordOrigin): void
  /** Partition count of a topic, for sinks with a custom partitioner; undefined if unknown. */
  partitionCount(topic: string): number | undefined
}
