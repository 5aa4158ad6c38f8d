/**
 * How a Streamlane app takes part in its consumer group: the leader's assignor (tasks from partition counts, placed
 * by src/assignment) and what each member says about itself in its subscription.
 */
import {
  createLeaderAssignor,
  deriveTasks,
  encodeSubscriptionInfo,
  type LeaderAssignmentOutcome,
  resolveSubtopologyPartitions,
  type SubtopologySource
} from '../assignment/index.ts'
import type { Assignor } from '../kafka/group/index.ts'
import type { TaskIdText } from '../task-id.ts'
import type { StreamsConfig } from './config.ts'

export interface GroupProtocolOptions {
  sourceTopics: ReadonlyMap<number, readonly string[]>
  statefulSubtopologies: ReadonlySet<number>
  config: StreamsConfig
  onAssignment?: (outcome: LeaderAssignmentOutcome) => void
  /**
   * Read by the leader before it assigns: per stateful task, its changelogs' end offset sum (see
   * task-lags.ts changelogEndOffsetSums), so a member without local state counts as caught up on small changelogs.
   */
  changelogEndOffsets?: (taskIds: TaskIdText[]) => Promise<ReadonlyMap<TaskIdText, bigint> | undefined>
}

export function streamlaneAssignor(options: GroupProtocolOptions): Assignor {
  const subtopologies: SubtopologySource[] = [...options.sourceTopics].map(([subtopologyId, sourceTopics]) => ({
    subtopologyId,
    sourceTopics,
    stateful: options.statefulSubtopologies.has(subtopologyId)
  }))
  const { config } = options
  const computeTasks = (counts: Map<string, number>) =>
    deriveTasks(resolveSubtopologyPartitions(subtopologies, (topic) => counts.get(topic)))
  const leader = createLeaderAssignor<Map<string, number>>({
    computeTasks,
    config: {
      numStandbyReplicas: config.numStandbyReplicas,
      maxWarmupReplicas: config.maxWarmupReplicas,
      acceptableRecoveryLag: config.acceptableRecoveryLag,
      probingRebalanceIntervalMs: config.probingRebalanceIntervalMs,
      highAvailability: config.highAvailability
    },
    onAssignment: options.onAssignment
  })
  return async (members, partitionCounts, context) => {
    const changelogEndOffsets = await endOffsetSums(partitionCounts)
    return leader(members, partitionCounts, {
      leaderId: context.leaderId,
      ...(changelogEndOffsets && { changelogEndOffsets })
    })
  }

  async function endOffsetSums(counts: Map<string, number>): Promise<ReadonlyMap<TaskIdText, bigint> | undefined> {
    if (!options.changelogEndOffsets || !config.highAvailability) return undefined
    let stateful: TaskIdText[]
    try {
      stateful = computeTasks(counts)
        .filter((task) => task.stateful)
        .map((task) => task.id)
    } catch {
      return undefined // a missing source topic or a co-partition mismatch: the leader reports it to every member
    }
    return stateful.length > 0 ? options.changelogEndOffsets(stateful) : undefined
  }
}

export interface SubscriptionState {
  processId: string
  endpoint?: string
  ownedActive: Iterable<TaskIdText>
  /** Standby and warm-up tasks held now. */
  ownedStandby?: Iterable<TaskIdText>
  /** Changelog records behind, per task with local state (see task-lags.ts). */
  taskLags?: ReadonlyMap<TaskIdText, bigint>
  draining: boolean
}

let uniqueField = 0

/** The subscription userData of this member, read afresh at every join. */
export function subscriptionUserData(state: SubscriptionState): Buffer {
  return encodeSubscriptionInfo({
    processId: state.processId,
    endpoint: state.endpoint,
    ownedActive: [...state.ownedActive],
    ownedStandby: [...(state.ownedStandby ?? [])],
    taskLags: state.taskLags,
    draining: state.draining,
    uniqueField: ++uniqueField
  })
}
