import { StreamlaneError } from '../errors.ts'

/** Which half of a record a serde failed on; a serde does not know whether it reads keys or values, its caller does. */
export type RecordPart = 'key' | 'value'

/** Where a consumed record came from: known to the task that consumed it, not to the serde. */
export interface RecordLocation {
  readonly partition: number
  readonly offset: number
  readonly part?: RecordPart
}

interface DeserializationDetails {
  readonly topic: string
  readonly reason: string
  readonly part?: RecordPart | undefined
  readonly partition?: number | undefined
  readonly offset?: number | undefined
}

/**
 * Bytes that a serde cannot read. A serde raises it knowing only the topic; the task that consumed the record
 * decorates it with `at(location)` so the message names topic, partition, offset and whether the key or the value
 * was bad. The fields stay readable for error handlers and dead-letter headers.
 */
export class DeserializationError extends StreamlaneError {
  readonly topic: string
  readonly reason: string
  readonly part: RecordPart | undefined
  readonly partition: number | undefined
  readonly offset: number | undefined

  constructor(details: DeserializationDetails, options?: { cause?: unknown }) {
    super('STREAMLANE_DESERIALIZATION_FAILED', describe(details), options)
    this.topic = details.topic
    this.reason = details.reason
    this.part = details.part
    this.partition = details.partition
    this.offset = details.offset
  }

  /** The same failure, located at a partition and offset (and key or value). */
  at(location: RecordLocation): DeserializationError {
    return new DeserializationError(
      {
        topic: this.topic,
        reason: this.reason,
        part: location.part ?? this.part,
        partition: location.partition,
        offset: location.offset
      },
      { cause: this.cause }
    )
  }
}

function describe(details: DeserializationDetails): string {
  const what = details.part === undefined ? 'data' : `the ${details.part}`
  const where =
    details.partition === undefined || details.offset === undefined
      ? `a record from topic ${details.topic}`
      : `the record at topic ${details.topic} partition ${details.partition} offset ${details.offset}`
  return `cannot deserialize ${what} of ${where}: ${details.reason}`
}

/**
 * By code, not `instanceof`: a serde may come from another copy of Streamlane than the runtime's (an app importing
 * the package while the CLI runs from a checkout), and its errors are then instances of that copy's class.
 */
export function isDeserializationError(error: unknown): error is DeserializationError {
  return (error as { code?: unknown } | null)?.code === 'STREAMLANE_DESERIALIZATION_FAILED'
}

/** A value that a serde cannot write (wrong type, out of range, invalid for its schema). */
export class SerializationError extends StreamlaneError {
  readonly topic: string
  readonly reason: string
  readonly part: RecordPart | undefined

  constructor(details: { topic: string; reason: string; part?: RecordPart }, options?: { cause?: unknown }) {
    const what = details.part === undefined ? 'a value' : `the ${details.part} of a record`
    super(
      'STREAMLANE_SERIALIZATION_FAILED',
      `cannot serialize ${what} for topic ${details.topic}: ${details.reason}`,
      options
    )
    this.topic = details.topic
    this.reason = details.reason
    this.part = details.part
  }

  /** The same failure, saying whether the key or the value was bad. */
  withPart(part: RecordPart): SerializationError {
    return new SerializationError({ topic: this.topic, reason: this.reason, part }, { cause: this.cause })
  }
}

/** By code, for the reason given at `isDeserializationError`. */
export function isSerializationError(error: unknown): error is SerializationError {
  return (error as { code?: unknown } | null)?.code === 'STREAMLANE_SERIALIZATION_FAILED'
}
