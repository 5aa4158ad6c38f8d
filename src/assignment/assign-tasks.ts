import { sortTaskIds, type TaskIdText } from '../task-id.ts'
import { placeActiveTasks } from './active-placement.ts'
import { type AssignorConfig, resolveAssignorConfig } from './config.ts'
import { type AssignorMember, buildGroupView, type GroupView, listSome } from './group-view.ts'
import { placeStandbyTasks } from './standby-placement.ts'
import { partitionsOfTasks, type TaskSpec, type TopicPartitions } from './tasks.ts'

/*
 * The Streamlane task assignor (the leader-side half of "group membership is ours"): active placement with high
 * availability (active-placement.ts), the cooperative handover that keeps a partition from having two consumers at
 * once, standbys (standby-placement.ts), and what each member must do next.
 */

export interface AssignTasksInput {
  /** Every task of the topology (see deriveTasks); order does not matter. */
  tasks: readonly TaskSpec[]
  members: readonly AssignorMember[]
  config?: Partial<AssignorConfig>
  /** The member running this assignment; it schedules the probing rebalance when one is needed. */
  leaderMemberId?: string
  /**
   * Per stateful task, the sum of its changelog partitions' end offsets, read by the leader: the lag of a member
   * with no local copy. A task left out (or all of them, when absent) counts as never caught up without state.
   */
  changelogEndOffsets?: ReadonlyMap<TaskIdText, bigint>
}

export interface MemberTaskAssignment {
  activeTasks: TaskIdText[]
  standbyTasks: TaskIdText[]
  warmupTasks: TaskIdText[]
  /** Input partitions of the active tasks only: standbys and warm-ups read their changelogs themselves. */
  partitions: TopicPartitions[]
  /** Tasks the member ran as active and must now commit and close (or turn into a standby). */
  revokedTasks: TaskIdText[]
  /** Holds warm-ups: rejoin as soon as they are all within acceptableRecoveryLag. */
  followupRebalance: boolean
  /** Rejoin after this many ms; 0 = as soon as revoked tasks are committed; -1 = nothing scheduled. */
  nextRebalanceDelayMs: number
}

export interface TaskAssignmentResult {
  perMember: Map<string, MemberTaskAssignment>
  /** endpoint -> input partitions of the active tasks it serves (for interactive queries). */
  partitionsByHost: Map<string, TopicPartitions[]>
  /** endpoint -> input partitions of the standby tasks it holds (stale reads). */
  standbyPartitionsByHost: Map<string, TopicPartitions[]>
  /** Some task is not where balance wants it yet (warm-up or handover in progress): the group must rebalance again. */
  followupRebalanceNeeded: boolean
  /** Tasks withheld this round until their current owners revoke them, with the member they go to next. */
  pendingHandovers: Map<TaskIdText, { from: string[]; to: string }>
  /** Human-readable reasons for what moved and what did not; for the leader's log. */
  log: string[]
}

export function assignTasks(input: AssignTasksInput): TaskAssignmentResult {
  const config = resolveAssignorConfig(input.config)
  const tasks = [...input.tasks].sort((a, b) => compareIndex(a, b))
  const view = buildGroupView(
    tasks,
    input.members,
    config.acceptableRecoveryLag,
    config.highAvailability,
    input.changelogEndOffsets
  )
  const log = [...view.notes]

  const placement = placeActiveTasks(view, config)
  log.push(...placement.log)
  const owner = new Map(placement.owner)

  // Cooperative handover: never give a task's partitions to a new member while a live member still runs it. The
  // old owner gets an assignment without it (so it commits and closes it) and rejoins at once; the next rebalance
  // finds the task without an owner and places it again, on the same target, which also got a warm-up meanwhile.
  const pendingHandovers = new Map<TaskIdText, { from: string[]; to: string }>()
  const handoverWarmups = new Map<TaskIdText, string>()
  const mustRejoin = new Set<string>()
  if (config.cooperative) {
    for (const [taskId, target] of placement.owner) {
      const claimants = view.claimants.get(taskId) ?? []
      if (claimants.length === 0 || claimants.some((claimant) => claimant.memberId === target)) continue
      owner.delete(taskId)
      pendingHandovers.set(taskId, { from: claimants.map((claimant) => claimant.memberId), to: target })
      for (const claimant of claimants) mustRejoin.add(claimant.memberId)
      const targetProcess = view.byId.get(target)!.processId
      const task = tasks[view.taskIndex.get(taskId)!]!
      // Within one process the state directory is shared: nothing to warm up.
      if (task.stateful && claimants.every((claimant) => claimant.processId !== targetProcess)) {
        if (placement.warmups.get(taskId) !== target) handoverWarmups.set(taskId, target)
      }
    }
    if (pendingHandovers.size > 0) {
      log.push(
        `${pendingHandovers.size} task(s) withheld until revoked by their current owner: ` +
          listSome([...pendingHandovers].map(([task, { from, to }]) => `${task} ${from.join('+')}->${to}`))
      )
    }
  }

  const occupied = new Map<TaskIdText, Set<string>>()
  const occupy = (taskId: TaskIdText, memberId: string) => {
    const processes = occupied.get(taskId) ?? new Set()
    processes.add(view.byId.get(memberId)!.processId)
    occupied.set(taskId, processes)
  }
  for (const [taskId, memberId] of placement.owner) occupy(taskId, memberId)
  for (const [taskId, memberId] of placement.warmups) occupy(taskId, memberId)
  for (const [taskId, memberId] of handoverWarmups) occupy(taskId, memberId)
  // No standby on the old owner's process during a handover: the next rebalance must see the target as the member
  // holding a replica, or it could give the task straight back.
  for (const [taskId, { from }] of pendingHandovers) for (const memberId of from) occupy(taskId, memberId)
  const activeLoad = new Map<string, number>()
  for (const memberId of owner.values()) activeLoad.set(memberId, (activeLoad.get(memberId) ?? 0) + 1)
  const standbyPlacement = placeStandbyTasks(view, config.numStandbyReplicas, occupied, activeLoad)
  log.push(...standbyPlacement.log)

  const warmupsPending = placement.postponedMoves > 0
  const followupRebalanceNeeded = warmupsPending || pendingHandovers.size > 0
  const prober = warmupsPending ? chooseProber(view, input.leaderMemberId) : undefined

  const perMember = new Map<string, MemberTaskAssignment>()
  const byMember = (entries: Iterable<[TaskIdText, string | string[]]>) => {
    const grouped = new Map<string, TaskIdText[]>()
    for (const [taskId, holders] of entries) {
      for (const memberId of Array.isArray(holders) ? holders : [holders]) {
        const list = grouped.get(memberId) ?? []
        list.push(taskId)
        grouped.set(memberId, list)
      }
    }
    return grouped
  }
  const actives = byMember(owner)
  const standbys = byMember(standbyPlacement.standbys)
  const warmups = byMember([...placement.warmups, ...handoverWarmups])
  const budgetedWarmups = byMember(placement.warmups)
  for (const member of view.members) {
    const activeTasks = sortTaskIds(actives.get(member.memberId) ?? [])
    const activeSet = new Set(activeTasks)
    let nextRebalanceDelayMs = -1
    if (member.memberId === prober) nextRebalanceDelayMs = config.probingRebalanceIntervalMs
    if (mustRejoin.has(member.memberId)) nextRebalanceDelayMs = 0
    perMember.set(member.memberId, {
      activeTasks,
      standbyTasks: sortTaskIds(standbys.get(member.memberId) ?? []),
      warmupTasks: sortTaskIds(warmups.get(member.memberId) ?? []),
      partitions: partitionsOfTasks(activeTasks.map((taskId) => tasks[view.taskIndex.get(taskId)!]!)),
      revokedTasks: revokedFrom(input.members, member.memberId, activeSet),
      followupRebalance: (budgetedWarmups.get(member.memberId)?.length ?? 0) > 0,
      nextRebalanceDelayMs
    })
  }

  return {
    perMember,
    partitionsByHost: partitionsByHost(view, tasks, perMember, (assignment) => assignment.activeTasks),
    standbyPartitionsByHost: partitionsByHost(view, tasks, perMember, (assignment) => assignment.standbyTasks),
    followupRebalanceNeeded,
    pendingHandovers,
    log
  }
}

function compareIndex(a: TaskSpec, b: TaskSpec): number {
  return a.subtopologyId - b.subtopologyId || a.partition - b.partition
}

/**
 * One member schedules the probing rebalance: if every member did, their timers would fire one after another and
 * cause a burst of rebalances. The leader if it may hold tasks, else the first eligible member.
 */
function chooseProber(view: GroupView, leaderMemberId: string | undefined): string | undefined {
  const leader = leaderMemberId === undefined ? undefined : view.byId.get(leaderMemberId)
  if (leader?.eligible) return leader.memberId
  return view.eligible[0]?.memberId ?? view.members[0]?.memberId
}

/** Everything the member said it runs as active, minus what it keeps (including tasks that no longer exist). */
function revokedFrom(
  members: readonly AssignorMember[],
  memberId: string,
  kept: ReadonlySet<TaskIdText>
): TaskIdText[] {
  const member = members.find((candidate) => candidate.memberId === memberId)
  return sortTaskIds([...(member?.ownedActive ?? [])].filter((taskId) => !kept.has(taskId)))
}

function partitionsByHost(
  view: GroupView,
  tasks: readonly TaskSpec[],
  perMember: ReadonlyMap<string, MemberTaskAssignment>,
  pick: (assignment: MemberTaskAssignment) => readonly TaskIdText[]
): Map<string, TopicPartitions[]> {
  const byHost = new Map<string, TaskSpec[]>()
  for (const member of view.members) {
    if (member.endpoint === undefined) continue
    const list = byHost.get(member.endpoint) ?? []
    for (const taskId of pick(perMember.get(member.memberId)!)) list.push(tasks[view.taskIndex.get(taskId)!]!)
    byHost.set(member.endpoint, list)
  }
  const result = new Map<string, TopicPartitions[]>()
  for (const host of [...byHost.keys()].sort()) {
    const partitions = partitionsOfTasks(byHost.get(host)!)
    if (partitions.length > 0) result.set(host, partitions)
  }
  return result
}
