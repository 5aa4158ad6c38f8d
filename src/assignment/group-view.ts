import type { TaskIdText } from '../task-id.ts'
import { AssignmentInputError } from './errors.ts'
import type { TaskSpec } from './tasks.ts'

/** One group member as the assignor sees it: its decoded subscription plus its member id. */
export interface AssignorMember {
  memberId: string
  /** Stable per state directory; members of one process share its stores (and so its lags). */
  processId: string
  endpoint?: string | undefined
  /** Changelog records the local copy is behind, per task with local state. Absent = no local state. */
  taskLags?: ReadonlyMap<TaskIdText, bigint>
  ownedActive?: Iterable<TaskIdText>
  /** Standby AND warm-up tasks the member holds now (both are standbys to the runtime). */
  ownedStandby?: Iterable<TaskIdText>
  /** Shutting down or scaled in: gets no tasks at all. */
  draining?: boolean
  /** Generation in which ownedActive was assigned (-1 or absent if unknown): a newer claim beats a stale one. */
  generation?: number
}

export interface MemberView {
  memberId: string
  processId: string
  endpoint: string | undefined
  /** May receive tasks: not draining (or everyone is draining, see buildGroupView). */
  eligible: boolean
  draining: boolean
  generation: number
  ownedActive: ReadonlySet<TaskIdText>
  ownedStandby: ReadonlySet<TaskIdText>
}

/**
 * Lag of a member with no local copy of a task when the changelogs' end offsets are not known: above every int64
 * lag, so "no state" always ranks last and is never caught up.
 */
export const NO_STATE = 1n << 64n

/**
 * The facts the placement steps need, computed once: previous owners, who claims what, and per process how far
 * each task's local copy has caught up.
 */
export interface GroupView {
  tasks: readonly TaskSpec[]
  taskIndex: ReadonlyMap<TaskIdText, number>
  /** All members, sorted by member id. */
  members: readonly MemberView[]
  /** Members that may receive tasks, sorted by member id. */
  eligible: readonly MemberView[]
  byId: ReadonlyMap<string, MemberView>
  /** Every member (eligible or not) that says it runs the task as active now. */
  claimants: ReadonlyMap<TaskIdText, readonly MemberView[]>
  /** The claimant whose claim counts (newest generation): the task's previous owner. */
  previousOwner: ReadonlyMap<TaskIdText, MemberView>
  acceptableRecoveryLag: bigint
  /**
   * Effective lag: 0 for stateless tasks and on the previous owner's process; without a local copy, the task's
   * changelog end offset sum (NO_STATE when unknown).
   */
  lag(member: MemberView, task: TaskSpec): bigint
  isCaughtUp(member: MemberView, task: TaskSpec): boolean
  /** Some eligible member is caught up on the task. */
  anyCaughtUp(task: TaskSpec): boolean
  notes: string[]
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function buildGroupView(
  tasks: readonly TaskSpec[],
  members: readonly AssignorMember[],
  acceptableRecoveryLag: number,
  highAvailability = true,
  changelogEndOffsets?: ReadonlyMap<TaskIdText, bigint>
): GroupView {
  const notes: string[] = []
  const taskIndex = new Map(tasks.map((task, index) => [task.id, index]))
  if (taskIndex.size !== tasks.length) throw new AssignmentInputError('the task list contains a task id twice')
  const seen = new Set<string>()
  for (const member of members) {
    if (seen.has(member.memberId)) throw new AssignmentInputError(`member id ${member.memberId} appears twice`)
    seen.add(member.memberId)
    if (!member.processId) throw new AssignmentInputError(`member ${member.memberId} has no processId`)
  }
  // When every member is draining (the whole app is stopping) they keep processing until they leave: handing out
  // nothing would stall all tasks for no one's benefit.
  const allDraining = members.length > 0 && members.every((member) => member.draining === true)
  if (allDraining) notes.push('every member is draining: ignoring the draining flag so tasks keep running')

  const views: MemberView[] = members
    .map((member) => ({
      memberId: member.memberId,
      processId: member.processId,
      endpoint: member.endpoint || undefined,
      eligible: allDraining || member.draining !== true,
      draining: member.draining === true,
      generation: member.generation ?? -1,
      ownedActive: new Set([...(member.ownedActive ?? [])].filter((task) => taskIndex.has(task))),
      ownedStandby: new Set([...(member.ownedStandby ?? [])].filter((task) => taskIndex.has(task)))
    }))
    .sort((a, b) => compareStrings(a.memberId, b.memberId))
  const byId = new Map(views.map((view) => [view.memberId, view]))

  const claimants = new Map<TaskIdText, MemberView[]>()
  for (const view of views) {
    for (const task of view.ownedActive) {
      const list = claimants.get(task) ?? []
      list.push(view)
      claimants.set(task, list)
    }
  }
  // Two members claim a task after one missed a rebalance (a zombie): the newest generation's claim counts.
  const previousOwner = new Map<TaskIdText, MemberView>()
  const conflicts: string[] = []
  for (const [task, list] of claimants) {
    const [winner] = [...list].sort((a, b) => b.generation - a.generation || compareStrings(a.memberId, b.memberId))
    previousOwner.set(task, winner!)
    if (list.length > 1) conflicts.push(`${task} (${list.map((m) => m.memberId).join('+')}: ${winner!.memberId} wins)`)
  }
  if (conflicts.length > 0) notes.push(`tasks claimed active by several members: ${listSome(conflicts)}`)

  // Lags count per process: members of one process share its state directory, so any of them can open the store.
  const processLags = new Map<string, Map<TaskIdText, bigint>>()
  for (const member of members) {
    let lags = processLags.get(member.processId)
    if (!lags) {
      lags = new Map()
      processLags.set(member.processId, lags)
    }
    for (const [task, reported] of member.taskLags ?? []) {
      if (!taskIndex.has(task)) continue
      const lag = reported < 0n ? 0n : reported
      const current = lags.get(task)
      if (current === undefined || lag < current) lags.set(task, lag)
    }
  }

  const threshold = BigInt(acceptableRecoveryLag)
  const lag = (member: MemberView, task: TaskSpec): bigint => {
    if (!task.stateful) return 0n
    // The previous owner's process counts as caught up whatever it reports: its copy is the one being processed
    // (or restored) right now, and moving the task away would start a restore from scratch elsewhere.
    if (previousOwner.get(task.id)?.processId === member.processId) return 0n
    // Without a local copy the whole changelog is to restore (Kafka Streams' ClientState: lag = end offset sum), so
    // a task whose changelogs are empty, or within acceptableRecoveryLag, is caught up everywhere: a new member
    // takes it as active at once instead of warming it up first.
    return processLags.get(member.processId)?.get(task.id) ?? changelogEndOffsets?.get(task.id) ?? NO_STATE
  }
  const isCaughtUp = (member: MemberView, task: TaskSpec): boolean =>
    !highAvailability || lag(member, task) <= threshold
  const eligible = views.filter((view) => view.eligible)
  const caughtUpCache = new Map<TaskIdText, boolean>()
  const anyCaughtUp = (task: TaskSpec): boolean => {
    let known = caughtUpCache.get(task.id)
    if (known === undefined) {
      known = eligible.some((member) => isCaughtUp(member, task))
      caughtUpCache.set(task.id, known)
    }
    return known
  }

  return {
    tasks,
    taskIndex,
    members: views,
    eligible,
    byId,
    claimants,
    previousOwner,
    acceptableRecoveryLag: threshold,
    lag,
    isCaughtUp,
    anyCaughtUp,
    notes
  }
}

/** Lexicographic comparison of rank tuples (numbers and bigints ascending, strings by code unit). */
export function compareRanks(
  a: readonly (number | bigint | string)[],
  b: readonly (number | bigint | string)[]
): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x < y) return -1
    if (x > y) return 1
  }
  return 0
}

/** The candidate with the smallest rank, or undefined when there is none. */
export function best<T>(candidates: Iterable<T>, rank: (candidate: T) => (number | bigint | string)[]): T | undefined {
  let winner: T | undefined
  let winnerRank: (number | bigint | string)[] | undefined
  for (const candidate of candidates) {
    const candidateRank = rank(candidate)
    if (winnerRank === undefined || compareRanks(candidateRank, winnerRank) < 0) {
      winner = candidate
      winnerRank = candidateRank
    }
  }
  return winner
}

/** A log-friendly list: the first `max` items, then how many more (a 2000-task group must not log 2000 ids). */
export function listSome(items: readonly string[], max = 20): string {
  if (items.length <= max) return items.join(', ')
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`
}
