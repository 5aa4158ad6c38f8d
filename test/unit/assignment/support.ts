import {
  type AssignorConfig,
  type AssignorMember,
  assignTasks,
  deriveTasks,
  type TaskAssignmentResult,
  type TaskIdText,
  type TaskSpec
} from '../../../src/assignment/index.ts'

/** `count` tasks of sub-topology 0 over topic `in`, stateful unless told otherwise. */
export function simpleTasks(count: number, stateful = true): TaskSpec[] {
  return deriveTasks([{ subtopologyId: 0, sourceTopics: ['in'], partitions: count, stateful }])
}

/** A member that is its own process (`p-<id>`), unless `processId` is given. */
export function member(memberId: string, fields: Partial<AssignorMember> = {}): AssignorMember {
  return { memberId, processId: `p-${memberId}`, endpoint: `${memberId}:8080`, ...fields }
}

export function lags(entries: Record<string, number | bigint>): Map<TaskIdText, bigint> {
  return new Map(Object.entries(entries).map(([task, lag]) => [task as TaskIdText, BigInt(lag)]))
}

export function activeCounts(result: TaskAssignmentResult): Map<string, number> {
  return new Map([...result.perMember].map(([id, assignment]) => [id, assignment.activeTasks.length]))
}

export function ownerOf(result: TaskAssignmentResult): Map<TaskIdText, string> {
  const owners = new Map<TaskIdText, string>()
  for (const [id, assignment] of result.perMember) for (const task of assignment.activeTasks) owners.set(task, id)
  return owners
}

/**
 * The members as they would subscribe after running `result`: they own what they were given, report every active,
 * standby and warm-up copy at `replicaLag` (0 = caught up by the next rebalance), and keep the lags they had for
 * other tasks (state stays on disk).
 */
export function nextRound(
  members: readonly AssignorMember[],
  result: TaskAssignmentResult,
  replicaLag: (task: TaskIdText, memberId: string) => bigint = () => 0n
): AssignorMember[] {
  return members.map((m) => {
    const assignment = result.perMember.get(m.memberId)!
    const taskLags = new Map(m.taskLags ?? [])
    for (const task of assignment.activeTasks) taskLags.set(task, 0n)
    for (const task of [...assignment.standbyTasks, ...assignment.warmupTasks]) {
      taskLags.set(task, replicaLag(task, m.memberId))
    }
    return {
      ...m,
      ownedActive: assignment.activeTasks,
      ownedStandby: [...assignment.standbyTasks, ...assignment.warmupTasks],
      taskLags
    }
  })
}

/** Runs rebalances until none is needed (or `maxRounds`), returning every round's result. */
export function rebalanceUntilStable(
  tasks: readonly TaskSpec[],
  members: readonly AssignorMember[],
  config: Partial<AssignorConfig> = {},
  maxRounds = 50
): { results: TaskAssignmentResult[]; members: AssignorMember[] } {
  const results: TaskAssignmentResult[] = []
  let current = [...members]
  for (let round = 0; round < maxRounds; round++) {
    const result = assignTasks({ tasks, members: current, config })
    results.push(result)
    current = nextRound(current, result)
    if (!result.followupRebalanceNeeded) break
  }
  return { results, members: current }
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing property run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Problems with a result; empty when every invariant holds. */
export function invariantViolations(
  tasks: readonly TaskSpec[],
  members: readonly AssignorMember[],
  result: TaskAssignmentResult
): string[] {
  const problems: string[] = []
  const processOf = new Map(members.map((m) => [m.memberId, m.processId]))
  const activeOwners = new Map<TaskIdText, string[]>()
  for (const [id, assignment] of result.perMember) {
    for (const task of assignment.activeTasks) activeOwners.set(task, [...(activeOwners.get(task) ?? []), id])
    const roles = [...assignment.activeTasks, ...assignment.standbyTasks, ...assignment.warmupTasks]
    if (new Set(roles).size !== roles.length) problems.push(`${id} holds a task in two roles`)
    const draining = members.find((m) => m.memberId === id)?.draining
    if (draining && !members.every((m) => m.draining) && roles.length > 0) problems.push(`draining ${id} got tasks`)
  }
  for (const task of tasks) {
    const owners = activeOwners.get(task.id) ?? []
    const pending = result.pendingHandovers.has(task.id)
    if (owners.length > 1) problems.push(`${task.id} has ${owners.length} active owners`)
    if (owners.length === 0 && !pending) problems.push(`${task.id} has no active owner`)
    if (owners.length === 1 && pending) problems.push(`${task.id} is both assigned and pending handover`)
    // One replica per process.
    const processes: string[] = []
    for (const [id, assignment] of result.perMember) {
      if (
        assignment.activeTasks.includes(task.id) ||
        assignment.standbyTasks.includes(task.id) ||
        assignment.warmupTasks.includes(task.id)
      ) {
        processes.push(processOf.get(id)!)
      }
    }
    if (new Set(processes).size !== processes.length) problems.push(`${task.id} has two replicas on one process`)
  }
  return problems
}
