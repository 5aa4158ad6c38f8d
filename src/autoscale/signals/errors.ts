import type { StreamlaneErrorCode } from '../../error-codes.ts'
import { StreamlaneError } from '../../errors.ts'

/**
 * Why a scaling signal could not be read. Every one of these must reach KEDA (or the metrics-api caller) as an error,
 * never as a zero: a zero would let the HPA scale a busy app down to its minimum. `kind` lets transports pick a status
 * (gRPC NOT_FOUND / UNAVAILABLE / INVALID_ARGUMENT / PERMISSION_DENIED, HTTP 404 / 503 / 400 / 403) without matching
 * on codes.
 */
export type SignalErrorKind = 'not-found' | 'unavailable' | 'invalid' | 'forbidden'

export class SignalError extends StreamlaneError {
  readonly kind: SignalErrorKind

  constructor(kind: SignalErrorKind, code: StreamlaneErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.kind = kind
  }
}

/** The coordinator knows nothing of the group: no members, no committed offsets (typo, or the app never ran). */
export class UnknownGroupError extends SignalError {
  readonly groupId: string

  constructor(groupId: string, brokers: readonly string[]) {
    super(
      'not-found',
      'STREAMLANE_SCALER_GROUP_UNKNOWN',
      `consumer group "${groupId}" is unknown to brokers ${brokers.join(',')}: it has no members and no committed ` +
        'offsets (check consumerGroup, or set allowUnknownGroup=true with explicit topics to count lag from the log start)'
    )
    this.groupId = groupId
  }
}

export class UnknownTopicError extends SignalError {
  readonly topics: string[]

  constructor(topics: string[], groupId: string, brokers: readonly string[], options?: { cause?: unknown }) {
    super(
      'not-found',
      'STREAMLANE_SCALER_TOPIC_UNKNOWN',
      `topic ${topics.map((t) => `"${t}"`).join(', ')} of consumer group "${groupId}" does not exist on brokers ${brokers.join(',')}`,
      options
    )
    this.topics = topics
  }
}

/** The group exists but there is nothing to measure: no commits, no assignments, and no `topics` were named. */
export class NoTopicsError extends SignalError {
  constructor(groupId: string) {
    super(
      'invalid',
      'STREAMLANE_SCALER_NO_TOPICS',
      `consumer group "${groupId}" has no committed offsets and no member assignments, so its topics cannot be ` +
        'inferred: name them in the topics metadata'
    )
  }
}

/** The brokers could not be reached or did not answer; the message carries the underlying cause. */
export class KafkaUnavailableError extends SignalError {
  constructor(groupId: string, brokers: readonly string[], cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super(
      'unavailable',
      'STREAMLANE_SCALER_KAFKA_UNAVAILABLE',
      `could not read consumer group "${groupId}" from brokers ${brokers.join(',')}: ${reason}`,
      { cause }
    )
  }
}

/** A trigger metadata key, query parameter or self-report field is missing or invalid; `field` names it. */
export class ScalerInputError extends SignalError {
  readonly field: string

  constructor(field: string, message: string) {
    super('invalid', 'STREAMLANE_SCALER_INPUT_INVALID', `invalid ${field}: ${message}`)
    this.field = field
  }
}

/**
 * The request is well formed but asks for something the operator did not allow: a group the scaler does not serve, a
 * cluster that is not on its allow-list. Refused before any connection is opened, so the answer says nothing about
 * the address asked for.
 */
export class ScalerNotAllowedError extends SignalError {
  readonly field: string

  constructor(field: string, message: string) {
    super('forbidden', 'STREAMLANE_SCALER_NOT_ALLOWED', `${field}: ${message}`)
    this.field = field
  }
}
