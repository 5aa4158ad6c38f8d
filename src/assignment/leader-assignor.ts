import { StreamlaneError } from '../errors.ts'
import type { TaskIdText } from '../task-id.ts'
import { type AssignTasksInput, assignTasks, type TaskAssignmentResult } from './assign-tasks.ts'
import { AssignmentErrorCode, encodeAssignmentInfo } from './assignment-info.ts'
import { type AssignorConfig, resolveAssignorConfig } from './config.ts'
import { UserDataVersionError } from './errors.ts'
import type { AssignorMember } from './group-view.ts'
import { decodeSubscriptionInfo } from './subscription-info.ts'
import type { TaskSpec, TopicPartitions } from './tasks.ts'

/*
 * The group leader's whole job, as one pure function: decode every member's subscription userData, compute the
 * tasks from cluster metadata, assign them, and encode each member's assignment userData. The Kafka layer carries
 * the bytes and knows nothing of tasks.
 */

/**
 * What the Kafka layer knows of a member at SyncGroup time. Structurally a subset of src/kafka/group's
 * MemberSubscription, so its array can be passed as is.
 */
export interface GroupMemberSubscription {
  memberId: string
  /** The consumer protocol subscription's userData, as the member sent it. */
  userData?: Uint8Array | null
  /** Generation in which the member's owned partitions were assigned (-1 when it owns nothing). */
  generationId?: number
}

/** What the Kafka layer puts in the member's consumer protocol assignment. */
export interface GroupMemberAssignment {
  partitions: TopicPartitions[]
  userData: Buffer
}

/** The leader's id (structurally a subset of src/kafka/group's AssignorContext), and what it read of the changelogs. */
export interface LeaderContext {
  leaderId?: string
  /** Per stateful task, its changelogs' end offset sum (see AssignTasksInput.changelogEndOffsets). */
  changelogEndOffsets?: ReadonlyMap<TaskIdText, bigint>
}

/**
 * With `Metadata = Map<string, number>` (topic -> partition count) this matches src/kafka/group's `Assignor`, so
 * `createLeaderAssignor(...)` can be given to the group member directly.
 */
export type LeaderAssignor<Metadata> = (
  members: readonly GroupMemberSubscription[],
  metadata: Metadata,
  context?: LeaderContext
) => Map<string, GroupMemberAssignment>

/** Everything the leader should log or export as metrics after an assignment. */
export interface LeaderAssignmentOutcome {
  /** Absent when the tasks could not be computed (`error` says why). */
  result?: TaskAssignmentResult
  /** Why no member got tasks (missing source topic, co-partition mismatch). */
  error?: StreamlaneError
  /** Members whose userData could not be decoded; they get an error code and no tasks. */
  undecodable: Map<string, StreamlaneError>
}

export interface LeaderAssignorOptions<Metadata> {
  /** Tasks of the topology for this metadata, e.g. deriveTasks(resolveSubtopologyPartitions(...)). */
  computeTasks: (metadata: Metadata) => readonly TaskSpec[]
  config?: Partial<AssignorConfig>
  onAssignment?: (outcome: LeaderAssignmentOutcome) => void
}

const TOPOLOGY_ERRORS: Record<string, number> = {
  STREAMLANE_SOURCE_TOPIC_MISSING: AssignmentErrorCode.SOURCE_TOPIC_MISSING,
  STREAMLANE_COPARTITION_MISMATCH: AssignmentErrorCode.COPARTITION_MISMATCH
}

export function createLeaderAssignor<Metadata>(options: LeaderAssignorOptions<Metadata>): LeaderAssignor<Metadata> {
  // Validate now, so a bad option fails at start rather than at the first rebalance.
  const config = resolveAssignorConfig(options.config)

  return (members, metadata, context) => {
    const decoded: AssignorMember[] = []
    const undecodable = new Map<string, StreamlaneError>()
    for (const member of [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))) {
      const { memberId } = member
      try {
        const info = decodeSubscriptionInfo(member.userData ?? new Uint8Array())
        // The protocol-level generation is authoritative when the Kafka layer knows it.
        const generation = Math.max(info.generation, member.generationId ?? -1)
        decoded.push({ memberId, ...info, generation })
      } catch (error) {
        if (!(error instanceof StreamlaneError)) throw error
        undecodable.set(memberId, error)
      }
    }

    const assignments = new Map<string, GroupMemberAssignment>()
    const failed = (errorCode: number): GroupMemberAssignment => ({
      partitions: [],
      userData: encodeAssignmentInfo({ errorCode, acceptableRecoveryLag: config.acceptableRecoveryLag })
    })
    for (const [memberId, error] of undecodable) {
      const code = error instanceof UserDataVersionError ? 'INCOMPATIBLE_VERSION' : 'ASSIGNMENT_FAILED'
      assignments.set(memberId, failed(AssignmentErrorCode[code]))
    }

    let tasks: readonly TaskSpec[]
    try {
      tasks = options.computeTasks(metadata)
    } catch (error) {
      const code = error instanceof StreamlaneError ? TOPOLOGY_ERRORS[error.code] : undefined
      if (code === undefined) throw error
      for (const member of decoded) assignments.set(member.memberId, failed(code))
      options.onAssignment?.({ error: error as StreamlaneError, undecodable })
      return assignments
    }

    const input: AssignTasksInput = { tasks, members: decoded, config }
    if (context?.leaderId !== undefined) input.leaderMemberId = context.leaderId
    if (context?.changelogEndOffsets !== undefined) input.changelogEndOffsets = context.changelogEndOffsets
    const result = assignTasks(input)
    for (const [memberId, assignment] of result.perMember) {
      assignments.set(memberId, {
        partitions: assignment.partitions,
        userData: encodeAssignmentInfo({
          errorCode: AssignmentErrorCode.NONE,
          activeTasks: assignment.activeTasks,
          standbyTasks: assignment.standbyTasks,
          warmupTasks: assignment.warmupTasks,
          partitionsByHost: result.partitionsByHost,
          standbyPartitionsByHost: result.standbyPartitionsByHost,
          followupRebalance: assignment.followupRebalance,
          nextRebalanceDelayMs: assignment.nextRebalanceDelayMs,
          acceptableRecoveryLag: config.acceptableRecoveryLag
        })
      })
    }
    options.onAssignment?.({ result, undecodable })
    return assignments
  }
}
