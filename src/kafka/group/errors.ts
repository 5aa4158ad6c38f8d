import type { StreamlaneErrorCode } from '../../error-codes.ts'
import { KafkaError } from '../errors.ts'

/**
 * Errors of Streamlane's own group membership, on the Kafka layer's `KafkaError`. Every message names the group;
 * codes are stable so the runtime and log queries can match on them. A commit refused for a stale generation is the
 * layer's shared `OffsetCommitRejectedError` (TxnOffsetCommit raises the same), not a class of its own.
 */
export class GroupError extends KafkaError {
  readonly groupId: string

  constructor(
    code: StreamlaneErrorCode,
    groupId: string,
    message: string,
    options: { cause?: unknown; kafkaCode?: string; retriable?: boolean } = {}
  ) {
    super(code, `group ${groupId}: ${message}`, options)
    this.groupId = groupId
  }
}

/** Another process joined with the same `groupInstanceId` (two pods with one name); this member is dead for good. */
export class FencedInstanceError extends GroupError {
  readonly groupInstanceId: string

  constructor(groupId: string, groupInstanceId: string, options?: { cause?: unknown }) {
    super(
      'STREAMLANE_GROUP_FENCED_INSTANCE',
      groupId,
      `static member ${groupInstanceId} was fenced: another member joined with the same group instance id (two instances share one name?)`,
      { ...options, kafkaCode: 'FENCED_INSTANCE_ID' }
    )
    this.groupInstanceId = groupInstanceId
  }
}

/** JoinGroup was refused for a reason retrying cannot fix (protocol clash, group full, not authorized, bad timeout). */
export class GroupJoinError extends GroupError {
  constructor(groupId: string, message: string, options?: { cause?: unknown }) {
    super('STREAMLANE_GROUP_JOIN_FAILED', groupId, message, options)
  }
}

/** A wait passed its deadline: finding the coordinator, joining, a rebalance callback, a commit. */
export class GroupTimeoutError extends GroupError {
  constructor(groupId: string, message: string, options?: { cause?: unknown }) {
    super('STREAMLANE_GROUP_TIMEOUT', groupId, message, { ...options, retriable: true })
  }
}

/** The leader's assignor threw or returned an assignment that cannot be right. */
export class GroupAssignmentError extends GroupError {
  constructor(groupId: string, message: string, options?: { cause?: unknown }) {
    super('STREAMLANE_GROUP_ASSIGNMENT_INVALID', groupId, message, options)
  }
}

/** The caller's onRevoke / onAssigned / onLost threw; the member stops because ownership is now unknown to it. */
export class GroupCallbackError extends GroupError {
  constructor(groupId: string, callback: string, options?: { cause?: unknown }) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : ''
    super('STREAMLANE_GROUP_CALLBACK_FAILED', groupId, `${callback} failed${reason}`, options)
  }
}

/** The group is rebalancing; the request can be retried once the member is stable again. */
export class RebalanceInProgressError extends GroupError {
  constructor(groupId: string, what: string, options?: { cause?: unknown }) {
    super('STREAMLANE_GROUP_REBALANCE_IN_PROGRESS', groupId, `${what} refused: a rebalance is in progress`, {
      ...options,
      kafkaCode: 'REBALANCE_IN_PROGRESS',
      retriable: true
    })
  }
}

/** Committing or fetching offsets failed for a reason other than the generation (names topic and partition). */
export class GroupOffsetError extends GroupError {
  constructor(groupId: string, message: string, options?: { cause?: unknown }) {
    super('STREAMLANE_GROUP_OFFSETS_FAILED', groupId, message, options)
  }
}

/** The broker is too old for the protocol versions group membership is written against. */
export class GroupProtocolUnsupportedError extends GroupError {
  constructor(groupId: string, message: string) {
    super('STREAMLANE_GROUP_PROTOCOL_UNSUPPORTED', groupId, message)
  }
}

/** The member was closed (or failed) while the call was waiting. */
export class GroupClosedError extends GroupError {
  constructor(groupId: string, what: string, options?: { cause?: unknown }) {
    super('STREAMLANE_GROUP_CLOSED', groupId, `${what}: the group member is closed`, options)
  }
}
