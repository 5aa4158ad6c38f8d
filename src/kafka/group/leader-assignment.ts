import { topicPartitionKey } from '../../topic-partition.ts'
import { GroupAssignmentError } from './errors.ts'
import { normalizePartitions } from './partitions.ts'
import type { Assignor, AssignorContext, MemberAssignment, MemberSubscription } from './types.ts'

/**
 * What the leader does between JoinGroup and SyncGroup: run the caller's assignor, check its answer, and apply the
 * cooperative rule. Pure apart from calling the assignor.
 *
 * The cooperative rule (KIP-429, done here rather than trusted to every assignor): a partition that member A still
 * owns (per A's subscription) is never handed to member B in the same generation. B gets it one generation later,
 * after A has run onRevoke (committing its offsets) and rejoined. So no partition ever has two processors, and
 * partitions that stay where they are never stop. A Streamlane assignor may do this itself; then nothing is withheld.
 */

export interface WithheldPartition {
  topic: string
  partition: number
  /** Who the assignor wanted to give it to. */
  memberId: string
  /** Who still owns it; it will be revoked there first. */
  ownerId: string
}

export interface LeaderAssignment {
  /** One entry per member of the generation, in join order. */
  assignments: Map<string, MemberAssignment>
  withheld: WithheldPartition[]
}

/**
 * Current owner of every claimed partition. Two members can claim one partition when one of them missed a
 * generation (a zombie); the claim from the newest generation wins, as in Kafka's cooperative sticky assignor.
 */
export function currentOwners(members: readonly MemberSubscription[]): Map<string, string> {
  const owners = new Map<string, { memberId: string; generationId: number }>()
  for (const member of members) {
    for (const { topic, partitions } of member.ownedPartitions) {
      for (const partition of partitions) {
        const k = topicPartitionKey(topic, partition)
        const previous = owners.get(k)
        if (!previous || member.generationId > previous.generationId) {
          owners.set(k, { memberId: member.memberId, generationId: member.generationId })
        }
      }
    }
  }
  return new Map([...owners].map(([k, v]) => [k, v.memberId]))
}

export async function computeLeaderAssignment(
  members: readonly MemberSubscription[],
  partitionCounts: Map<string, number>,
  assign: Assignor,
  context: AssignorContext
): Promise<LeaderAssignment> {
  const { groupId } = context
  let result: Map<string, MemberAssignment>
  try {
    result = await assign(
      members.map((m) => ({ ...m })),
      new Map(partitionCounts),
      context
    )
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new GroupAssignmentError(groupId, `the assignor threw in generation ${context.generationId}: ${reason}`, {
      cause: error
    })
  }
  if (!(result instanceof Map)) {
    throw new GroupAssignmentError(groupId, 'the assignor must return a Map of member id -> { partitions, userData }')
  }

  const memberIds = new Set(members.map((m) => m.memberId))
  const assignedTo = new Map<string, string>()
  for (const [memberId, share] of result) {
    if (!memberIds.has(memberId)) {
      throw new GroupAssignmentError(
        groupId,
        `the assignor assigned partitions to ${memberId}, which is not a member of generation ${context.generationId}`
      )
    }
    if (!share || !Array.isArray(share.partitions) || !Buffer.isBuffer(share.userData)) {
      throw new GroupAssignmentError(
        groupId,
        `the assignor's share for ${memberId} must be { partitions: {topic, partitions}[], userData: Buffer }`
      )
    }
    for (const { topic, partitions } of share.partitions) {
      const count = partitionCounts.get(topic)
      if (count === undefined) {
        throw new GroupAssignmentError(
          groupId,
          `the assignor assigned topic ${topic} to ${memberId}, but no member subscribes to it`
        )
      }
      for (const partition of partitions) {
        if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
          throw new GroupAssignmentError(
            groupId,
            `the assignor assigned ${topic}-${partition} to ${memberId}, but ${topic} has ${count} partitions`
          )
        }
        const other = assignedTo.get(topicPartitionKey(topic, partition))
        if (other !== undefined && other !== memberId) {
          throw new GroupAssignmentError(
            groupId,
            `the assignor assigned ${topic}-${partition} to both ${other} and ${memberId}`
          )
        }
        assignedTo.set(topicPartitionKey(topic, partition), memberId)
      }
    }
  }

  const owners = currentOwners(members)
  const withheld: WithheldPartition[] = []
  const assignments = new Map<string, MemberAssignment>()
  for (const { memberId } of members) {
    const share = result.get(memberId)
    if (!share) {
      assignments.set(memberId, { partitions: [], userData: Buffer.alloc(0) })
      continue
    }
    const kept: { topic: string; partitions: number[] }[] = []
    for (const { topic, partitions } of normalizePartitions(share.partitions)) {
      const mine: number[] = []
      for (const partition of partitions) {
        const ownerId = owners.get(topicPartitionKey(topic, partition))
        if (ownerId !== undefined && ownerId !== memberId) withheld.push({ topic, partition, memberId, ownerId })
        else mine.push(partition)
      }
      kept.push({ topic, partitions: mine })
    }
    assignments.set(memberId, { partitions: normalizePartitions(kept), userData: share.userData })
  }
  return { assignments, withheld }
}
