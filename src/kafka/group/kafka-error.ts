import { findErrorBy, MultipleErrors, NetworkError } from '@platformatic/kafka'

/**
 * Reading the library's errors. A Kafka error code arrives as a `ProtocolError` (with `apiId`, e.g.
 * `REBALANCE_IN_PROGRESS`) nested inside a `ResponseError`, sometimes inside a retry's `MultipleErrors`; these
 * helpers look through that nesting so the membership code can switch on the Kafka error name.
 */

/** Kafka error names the membership protocol reacts to, in the order they are checked. */
const MEMBERSHIP_ERRORS = [
  'FENCED_INSTANCE_ID',
  'MEMBER_ID_REQUIRED',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'UNSTABLE_OFFSET_COMMIT',
  'GROUP_MAX_SIZE_REACHED',
  'INCONSISTENT_GROUP_PROTOCOL',
  'INVALID_SESSION_TIMEOUT',
  'GROUP_AUTHORIZATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'INVALID_GROUP_ID',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'OFFSET_METADATA_TOO_LARGE',
  'INVALID_COMMIT_OFFSET_SIZE'
] as const

export type KafkaErrorName = (typeof MEMBERSHIP_ERRORS)[number]

/** The first Kafka error name found in `error` among the ones membership handles, else undefined. */
export function kafkaErrorName(error: unknown): KafkaErrorName | undefined {
  if (!(error instanceof Error)) return undefined
  for (const name of MEMBERSHIP_ERRORS) {
    if (findErrorBy(error, 'apiId', name)) return name
  }
  return undefined
}

/** Any Kafka error name in `error` (for messages), e.g. `OFFSET_OUT_OF_RANGE`. */
export function anyKafkaErrorName(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  const found = findErrorBy(error, 'code', 'PLT_KFK_PROTOCOL')
  return typeof found?.apiId === 'string' ? found.apiId : undefined
}

/** The coordinator moved, is starting, or the connection to it broke: find it again and retry. */
export function isCoordinatorError(error: unknown): boolean {
  const name = kafkaErrorName(error)
  if (name === 'NOT_COORDINATOR' || name === 'COORDINATOR_NOT_AVAILABLE' || name === 'COORDINATOR_LOAD_IN_PROGRESS') {
    return true
  }
  return error instanceof Error && findErrorBy(error, 'code', NetworkError.code) !== null && !isClosedPool(error)
}

/** The library's pool was closed under the request (we closed it to abort a JoinGroup); never retried. */
export function isClosedPool(error: unknown): boolean {
  return error instanceof Error && findErrorBy(error, 'closed', true) !== null
}

/** The member id the broker handed out with MEMBER_ID_REQUIRED (JoinGroup v4+ first join). */
export function assignedMemberId(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  const response = (error as { response?: { memberId?: unknown } }).response
  if (typeof response?.memberId === 'string' && response.memberId) return response.memberId
  const found = findErrorBy(error, 'apiId', 'MEMBER_ID_REQUIRED')
  return typeof found?.memberId === 'string' && found.memberId ? found.memberId : undefined
}

/** A one-line description of a library error including its nested causes, for Streamlane messages. */
export function describeKafkaError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const name = anyKafkaErrorName(error)
  if (name) return name
  if (error instanceof MultipleErrors && error.errors.length > 0) {
    const last = error.errors[error.errors.length - 1]
    return `${error.message} (last: ${describeKafkaError(last)})`
  }
  return error.message
}
