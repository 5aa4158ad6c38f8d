import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription
} from '@platformatic/kafka'
import { normalizePartitions } from './partitions.ts'
import type { MemberAssignment, MemberSubscription, TopicPartitions } from './types.ts'

/**
 * The group's wire identity and the consumer-protocol structs, through the client library's own encoders (no wire
 * code here). Protocol type `consumer` with the standard Subscription / Assignment structs is what lets Kafka's
 * `kafka-consumer-groups` describe a Streamlane group; the protocol (assignor) name is ours.
 */
export const CONSUMER_PROTOCOL_TYPE = 'consumer'
export const STREAMLANE_PROTOCOL_NAME = 'streamlane'

/**
 * Version 3 carries owned partitions (v1), the generation they were assigned in (v2) and the rack (v3): what a
 * cooperative assignor needs to keep assignments stable and to discard stale ownership claims.
 */
const SUBSCRIPTION_VERSION = 3
const ASSIGNMENT_VERSION = 3

export interface SubscriptionInput {
  topics: string[]
  userData: Buffer
  ownedPartitions: TopicPartitions[]
  generationId: number
}

export function encodeSubscription(input: SubscriptionInput): Buffer {
  return encodeConsumerProtocolSubscription({
    version: SUBSCRIPTION_VERSION,
    topics: input.topics,
    userData: input.userData,
    ownedPartitions: normalizePartitions(input.ownedPartitions),
    generationId: input.generationId,
    rackId: null
  })
}

export function decodeSubscription(
  memberId: string,
  groupInstanceId: string | null,
  metadata: Buffer
): MemberSubscription {
  const decoded = decodeConsumerProtocolSubscription(metadata)
  return {
    memberId,
    groupInstanceId,
    topics: decoded.topics,
    userData: decoded.userData ?? Buffer.alloc(0),
    ownedPartitions: normalizePartitions(decoded.ownedPartitions),
    generationId: decoded.generationId
  }
}

export function encodeAssignment(assignment: MemberAssignment): Buffer {
  return encodeConsumerProtocolAssignment({
    version: ASSIGNMENT_VERSION,
    assignedPartitions: normalizePartitions(assignment.partitions),
    userData: assignment.userData
  })
}

/** An empty buffer (a member the leader left out) decodes to no partitions and empty userData. */
export function decodeAssignment(buffer: Buffer): MemberAssignment {
  const decoded = decodeConsumerProtocolAssignment(buffer)
  return { partitions: normalizePartitions(decoded.assignedPartitions), userData: decoded.userData ?? Buffer.alloc(0) }
}
