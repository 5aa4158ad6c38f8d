import { StreamlaneError } from '../errors.ts'
import type { TaskId } from '../task-id.ts'
import type { RawRecord } from './record.ts'
import type { TaskActivity } from './record-collector.ts'

/** A topology that cannot run: duplicate names, unknown parents or stores, a missing serde. Raised while building. */
export class TopologyError extends StreamlaneError {
  constructor(message: string) {
    super('STREAMLANE_TOPOLOGY_INVALID', message)
  }
}

/** Topics a task reads together whose partition counts differ. */
export class CopartitioningError extends StreamlaneError {
  readonly subtopology: number
  readonly partitionCounts: ReadonlyMap<string, number>

  constructor(subtopology: number, partitionCounts: ReadonlyMap<string, number>) {
    const list = [...partitionCounts].map(
      ([topic, count]) => `${topic} has ${count} partition${count === 1 ? '' : 's'}`
    )
    super(
      'STREAMLANE_COPARTITIONING_FAILED',
      `the source topics of sub-topology ${subtopology} must have the same number of partitions, because task ` +
        `${subtopology}_<p> reads partition p of each: ${list.join(', ')}`
    )
    this.subtopology = subtopology
    this.partitionCounts = partitionCounts
  }
}

/** A source topic that does not exist on the cluster. */
export class MissingSourceTopicError extends StreamlaneError {
  readonly topics: readonly string[]

  constructor(subtopology: number, topics: readonly string[]) {
    super(
      'STREAMLANE_SOURCE_TOPIC_MISSING',
      `source topic${topics.length === 1 ? '' : 's'} ${topics.join(', ')} of sub-topology ${subtopology} ` +
        `${topics.length === 1 ? 'does' : 'do'} not exist; create ${topics.length === 1 ? 'it' : 'them'} before starting the application`
    )
    this.topics = topics
  }
}

/** A sink whose fixed output topic does not exist. */
export interface MissingSinkTopic {
  readonly sink: string
  readonly topic: string
  readonly subtopology: number
  /** Partitions of the sub-topology's input: its tasks are `<subtopology>_0` to `<subtopology>_<partitions - 1>`. */
  readonly partitions: number
}

/**
 * Fixed output topics that do not exist, found at start. Streamlane never creates them (only its internal topics)
 * and the producer does not auto-create topics; a topic a sink chooses per record is checked when it is written.
 */
export class MissingSinkTopicError extends StreamlaneError {
  readonly topics: readonly string[]
  readonly sinks: readonly MissingSinkTopic[]

  constructor(sinks: readonly MissingSinkTopic[]) {
    const topics = [...new Set(sinks.map((s) => s.topic))]
    const described = sinks.map(
      ({ sink, topic, subtopology, partitions }) =>
        `sink ${sink} of sub-topology ${subtopology} (${tasksOf(subtopology, partitions)}) writes to topic ${topic}`
    )
    const fix = (names: string) => `before starting the application, or check the ${names} given to to() or addSink()`
    super(
      'STREAMLANE_SINK_TOPIC_MISSING',
      sinks.length === 1
        ? `${described[0]}, which does not exist; create the topic ${fix('topic name')}`
        : topics.length === 1
          ? `output topic ${topics[0]} does not exist: ${described.join('; ')}; create it ${fix('topic name')}`
          : `output topics ${topics.join(', ')} do not exist: ${described.join('; ')}; create them ${fix('topic names')}`
    )
    this.topics = topics
    this.sinks = sinks
  }
}

function tasksOf(subtopology: number, partitions: number): string {
  return partitions <= 1 ? `task ${subtopology}_0` : `tasks ${subtopology}_0 to ${subtopology}_${partitions - 1}`
}

function locate(record: RawRecord | null, activity: TaskActivity | undefined): string {
  if (record !== null)
    return `on the record at topic ${record.topic} partition ${record.partition} offset ${record.offset}`
  if (activity === 'punctuating') return 'in a punctuator'
  // A cache keeps the latest value per key, not the input record that wrote it.
  if (activity === 'flushing') return 'on a record its store cache forwarded at commit'
  return 'outside of any input record'
}

/** A processor threw and the processing error handler chose to fail. The original error is the `cause`. */
export class ProcessingError extends StreamlaneError {
  readonly taskId: TaskId
  readonly processorName: string
  readonly sourceRecord: RawRecord | null

  constructor(
    details: {
      taskId: TaskId
      processorName: string
      sourceRecord: RawRecord | null
      activity?: TaskActivity | undefined
    },
    cause: unknown
  ) {
    super(
      'STREAMLANE_PROCESSING_FAILED',
      `processor ${details.processorName} of task ${details.taskId} failed ${locate(details.sourceRecord, details.activity)}: ${messageOf(cause)}`,
      { cause }
    )
    this.taskId = details.taskId
    this.processorName = details.processorName
    this.sourceRecord = details.sourceRecord
  }
}

/**
 * A sink could not produce a record (serialization, topic choice, partitioner, or the broker refused it) and the
 * handler chose to fail. `hint`, when given, says how to fix it (after the cause's message).
 */
export class ProductionError extends StreamlaneError {
  readonly taskId: TaskId
  readonly sinkName: string
  /** The output topic, when it was chosen before the failure. */
  readonly topic: string | null
  readonly sourceRecord: RawRecord | null

  constructor(
    details: {
      taskId: TaskId
      sinkName: string
      topic: string | null
      sourceRecord: RawRecord | null
      activity?: TaskActivity | undefined
      hint?: string | undefined
    },
    cause: unknown
  ) {
    const target = details.topic === null ? '' : ` to topic ${details.topic}`
    const hint = details.hint ? `; ${details.hint}` : ''
    super(
      'STREAMLANE_PRODUCTION_FAILED',
      `sink ${details.sinkName} of task ${details.taskId} could not produce${target} ${locate(details.sourceRecord, details.activity)}: ${messageOf(cause)}${hint}`,
      { cause }
    )
    this.taskId = details.taskId
    this.sinkName = details.sinkName
    this.topic = details.topic
    this.sourceRecord = details.sourceRecord
  }
}

/**
 * The largest record timestamp accepted: 9999-12-31T23:59:59.999Z. Anything later is a unit mistake (microseconds or
 * nanoseconds read as milliseconds) and would push stream time so far ahead that every window closes and every
 * windowed store expires, so such records go to the deserialization handler instead.
 */
export const MAX_RECORD_TIMESTAMP = 253_402_300_799_999

/** A timestamp extractor returned a negative, non-integer or far-future timestamp. */
export class InvalidTimestampError extends StreamlaneError {
  readonly timestamp: number

  constructor(record: RawRecord, timestamp: number) {
    super(
      'STREAMLANE_TIMESTAMP_INVALID',
      `invalid timestamp ${timestamp} for the record at topic ${record.topic} partition ${record.partition} ` +
        `offset ${record.offset}: timestamps must be integers from 0 to ${MAX_RECORD_TIMESTAMP} ` +
        '(epoch milliseconds up to the year 9999)'
    )
    this.timestamp = timestamp
  }
}

/** A task used out of order: processing while a previous record is still in flight, or after close. */
export class TaskStateError extends StreamlaneError {
  constructor(taskId: TaskId, message: string) {
    super('STREAMLANE_TASK_STATE_INVALID', `task ${taskId}: ${message}`)
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
