import { findErrorBy, type joinGroupV9, type syncGroupV5 } from '@platformatic/kafka'
import { StreamlaneError } from '../../errors.ts'
import { saslIdentity } from '../connection.ts'
import { translateKafkaError } from '../errors.ts'
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  STREAMLANE_PROTOCOL_NAME
} from './consumer-protocol.ts'
import type { GroupCoordinator } from './coordinator.ts'
import { FencedInstanceError, GroupAssignmentError, GroupJoinError, GroupTimeoutError } from './errors.ts'
import { assignedMemberId, kafkaErrorName } from './kafka-error.ts'
import { computeLeaderAssignment } from './leader-assignment.ts'
import type { ResolvedGroupMemberOptions } from './options.ts'
import type { MemberAssignment } from './types.ts'

/**
 * The requests of one rebalance round (JoinGroup, the leader's assignment, SyncGroup) and how each Kafka error
 * changes the member: a fresh member id, lost ownership, a retry, or a fatal error. The member's state stays in
 * GroupMember; it hands these functions a view of it.
 */
export interface JoinRoundMember {
  readonly options: ResolvedGroupMemberOptions
  readonly coordinator: GroupCoordinator
  readonly signal: AbortSignal
  memberId: string
  /** Encoded subscription: topics, userData, owned partitions and their generation. */
  subscription(): Promise<Buffer>
  /** Ownership ended without a handover: onLost, then rejoin. */
  loseAssignment(reason: string): Promise<void>
  /** Sleeps before a retry; throws once the deadline would pass or the member closes. */
  backoff(attempt: number, deadline: number, what: string, error: unknown): Promise<void>
}

export type JoinGroupResponse = joinGroupV9.JoinGroupResponse
type SyncAssignment = syncGroupV5.SyncGroupRequestAssignment

/** JoinGroup refusals that retrying cannot fix, with what to do about them. */
const JOIN_REFUSALS: Record<string, string> = {
  GROUP_MAX_SIZE_REACHED: 'the group is full (group.max.size on the broker)',
  INCONSISTENT_GROUP_PROTOCOL: `another member joined with a different protocol; every member must use protocol type "${CONSUMER_PROTOCOL_TYPE}" and assignor "${STREAMLANE_PROTOCOL_NAME}" (is a non-Streamlane consumer using this group id?)`,
  INVALID_SESSION_TIMEOUT:
    'the broker refused the session timeout: it must lie within group.min.session.timeout.ms and group.max.session.timeout.ms',
  GROUP_AUTHORIZATION_FAILED: 'not authorized to join the group (ACL on the group id)',
  INVALID_GROUP_ID: 'the group id is not valid'
}

function fenced(member: JoinRoundMember, error: unknown): FencedInstanceError {
  return new FencedInstanceError(member.options.groupId, member.options.groupInstanceId ?? '(dynamic member)', {
    cause: error
  })
}

/** A library error that says it cannot be retried and is not one of the Kafka errors handled above. */
function notRetriable(error: unknown): boolean {
  return error instanceof Error && kafkaErrorName(error) === undefined && findErrorBy(error, 'canRetry', false) !== null
}

/** Authentication and other permanent failures, named by the Kafka layer's shared translation (broker, group). */
function notRetriableError(member: JoinRoundMember, request: string, error: unknown): Error {
  const { groupId, brokers } = member.options
  return translateKafkaError(error, {
    operation: `${request} of group ${groupId}`,
    groupId,
    brokers,
    ...saslIdentity(member.options)
  })
}

export async function sendJoinGroup(
  member: JoinRoundMember,
  reason: string,
  deadline: number
): Promise<JoinGroupResponse> {
  const { groupId, groupInstanceId, sessionTimeoutMs, rebalanceTimeoutMs, joinTimeoutMs } = member.options
  for (let attempt = 0; ; attempt++) {
    if (Date.now() > deadline)
      throw new GroupTimeoutError(groupId, `joining did not complete within ${joinTimeoutMs} ms`)
    const protocols = [{ name: STREAMLANE_PROTOCOL_NAME, metadata: await member.subscription() }]
    try {
      const response = await member.coordinator.request(
        'JoinGroup',
        'join',
        (connection, protocol) =>
          protocol.joinGroup.async(
            connection,
            groupId,
            sessionTimeoutMs,
            rebalanceTimeoutMs,
            member.memberId,
            groupInstanceId,
            CONSUMER_PROTOCOL_TYPE,
            protocols,
            reason
          ),
        deadline,
        member.signal
      )
      if (response.protocolName !== STREAMLANE_PROTOCOL_NAME) {
        throw new GroupJoinError(
          groupId,
          `the broker selected protocol ${response.protocolName}, not ${STREAMLANE_PROTOCOL_NAME}`
        )
      }
      return response
    } catch (error) {
      const name = kafkaErrorName(error)
      if (name === 'MEMBER_ID_REQUIRED') {
        // The normal first join of a dynamic member (JoinGroup v4+): retry at once with the id handed out.
        member.memberId = assignedMemberId(error) ?? ''
        continue
      }
      if (name === 'UNKNOWN_MEMBER_ID') {
        member.memberId = ''
        await member.loseAssignment('the coordinator no longer knows this member')
        continue
      }
      if (name === 'FENCED_INSTANCE_ID') throw fenced(member, error)
      if (name && JOIN_REFUSALS[name])
        throw new GroupJoinError(groupId, `${JOIN_REFUSALS[name]} (${name})`, { cause: error })
      if (error instanceof StreamlaneError) throw error
      if (notRetriable(error)) throw notRetriableError(member, 'JoinGroup', error)
      await member.backoff(attempt, deadline, 'JoinGroup', error)
    }
  }
}

/** Leader only: decode every subscription, run the assignor, encode each member's own share. */
export async function assignAsLeader(member: JoinRoundMember, joined: JoinGroupResponse): Promise<SyncAssignment[]> {
  const { groupId, assign } = member.options
  const subscriptions = joined.members.map((m) => {
    try {
      return decodeSubscription(m.memberId, m.groupInstanceId ?? null, m.metadata)
    } catch (error) {
      throw new GroupAssignmentError(
        groupId,
        `member ${m.memberId} sent a subscription that is not a consumer-protocol Subscription`,
        {
          cause: error
        }
      )
    }
  })
  const topics = [...new Set(subscriptions.flatMap((s) => s.topics))].sort()
  const counts = await member.coordinator.partitionCounts(topics)
  const context = { groupId, generationId: joined.generationId, leaderId: joined.leader }
  const { assignments } = await computeLeaderAssignment(subscriptions, counts, assign, context)
  return [...assignments].map(([memberId, share]) => ({ memberId, assignment: encodeAssignment(share) }))
}

/** This member's share of `generationId`, or undefined when the round must be redone (the group moved on). */
export async function sendSyncGroup(
  member: JoinRoundMember,
  generationId: number,
  assignments: SyncAssignment[],
  deadline: number
): Promise<MemberAssignment | undefined> {
  const { groupId, groupInstanceId } = member.options
  try {
    const response = await member.coordinator.request(
      'SyncGroup',
      'join',
      (connection, protocol) =>
        protocol.syncGroup.async(
          connection,
          groupId,
          generationId,
          member.memberId,
          groupInstanceId,
          CONSUMER_PROTOCOL_TYPE,
          STREAMLANE_PROTOCOL_NAME,
          assignments
        ),
      deadline,
      member.signal
    )
    return decodeAssignment(response.assignment)
  } catch (error) {
    const name = kafkaErrorName(error)
    if (name === 'REBALANCE_IN_PROGRESS') return undefined
    if (name === 'FENCED_INSTANCE_ID') throw fenced(member, error)
    if (name === 'UNKNOWN_MEMBER_ID' || name === 'ILLEGAL_GENERATION') {
      // The group formed a generation without us: our partitions may already be someone else's.
      if (name === 'UNKNOWN_MEMBER_ID') member.memberId = ''
      await member.loseAssignment(`SyncGroup for generation ${generationId} failed with ${name}`)
      return undefined
    }
    if (error instanceof StreamlaneError) throw error
    if (notRetriable(error)) throw notRetriableError(member, 'SyncGroup', error)
    await member.backoff(0, deadline, 'SyncGroup', error)
    return undefined
  }
}
