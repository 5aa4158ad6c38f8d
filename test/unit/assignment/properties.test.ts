import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  type AssignorConfig,
  type AssignorMember,
  assignTasks,
  deriveTasks,
  type TaskAssignmentResult,
  type TaskIdText,
  type TaskSpec
} from '../../../src/assignment/index.ts'
import { invariantViolations, nextRound, seededRandom } from './support.ts'

const SEEDS = 300

interface Scenario {
  tasks: TaskSpec[]
  members: AssignorMember[]
  config: Partial<AssignorConfig>
}

/** A random group: processes with 1-3 members, random ownership (including conflicting claims), lags and drains. */
function scenario(seed: number): Scenario {
  const random = seededRandom(seed)
  const int = (max: number) => Math.floor(random() * (max + 1))
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!
  const tasks = deriveTasks(
    Array.from({ length: 1 + int(2) }, (_, id) => ({
      subtopologyId: id,
      sourceTopics: [`t${id}`],
      partitions: 1 + int(11),
      stateful: random() < 0.7
    }))
  )
  const members: AssignorMember[] = []
  const processCount = 1 + int(4)
  for (let p = 0; p < processCount; p++) {
    const perProcess = 1 + int(2)
    for (let m = 0; m < perProcess; m++) {
      const memberId = `m${p}-${m}-${int(9)}`
      const taskLags = new Map<TaskIdText, bigint>()
      for (const task of tasks) if (random() < 0.4) taskLags.set(task.id, BigInt(pick([0, 0, 500, 20_000, 90_000])))
      members.push({
        memberId,
        processId: `p${p}`,
        endpoint: `host${p}:7070`,
        taskLags,
        ownedActive: tasks.filter(() => random() < 0.2).map((t) => t.id),
        ownedStandby: tasks.filter(() => random() < 0.15).map((t) => t.id),
        draining: random() < 0.15,
        generation: int(3)
      })
    }
  }
  const config = {
    numStandbyReplicas: int(2),
    maxWarmupReplicas: 1 + int(2),
    cooperative: random() < 0.5
  }
  return { tasks, members, config }
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy
}

/** Actives given to a member that is neither the previous owner nor caught up, while a caught-up member existed. */
function haViolations({ tasks, members }: Scenario, result: TaskAssignmentResult): string[] {
  const allDraining = members.every((m) => m.draining)
  const eligible = members.filter((m) => allDraining || !m.draining)
  const problems: string[] = []
  for (const task of tasks.filter((t) => t.stateful)) {
    // The previous owner is the claim with the newest generation (ties: lowest member id); a stale claim is a zombie.
    const [previous] = members
      .filter((m) => [...(m.ownedActive ?? [])].includes(task.id))
      .sort((a, b) => (b.generation ?? -1) - (a.generation ?? -1) || (a.memberId < b.memberId ? -1 : 1))
    const claimantProcesses = new Set(previous ? [previous.processId] : [])
    const processLag = (processId: string) => {
      const reported = members
        .filter((m) => m.processId === processId)
        .map((m) => m.taskLags?.get(task.id))
        .filter((lag) => lag !== undefined)
      // bigints: Math.min does not apply.
      return reported.sort((a, b) => Number(a - b))[0]
    }
    const caughtUp = (m: AssignorMember) => {
      const lag = processLag(m.processId)
      return claimantProcesses.has(m.processId) || (lag !== undefined && lag <= 10_000n)
    }
    const ownerId = [...result.perMember].find(([, a]) => a.activeTasks.includes(task.id))?.[0]
    if (ownerId === undefined) continue
    const owner = members.find((m) => m.memberId === ownerId)!
    if (!caughtUp(owner) && eligible.some(caughtUp)) problems.push(`${task.id} on ${ownerId}, not caught up`)
  }
  return problems
}

test(`invariants hold for ${SEEDS} random groups`, () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const s = scenario(seed)
    const result = assignTasks(s)
    assert.deepEqual(invariantViolations(s.tasks, s.members, result), [], `seed ${seed}`)
    assert.deepEqual(haViolations(s, result), [], `seed ${seed}`)
    for (const [id, a] of result.perMember) {
      const partitions = a.partitions.reduce((n, tp) => n + tp.partitions.length, 0)
      assert.equal(partitions, a.activeTasks.length, `seed ${seed}: ${id} gets exactly its actives' partitions`)
    }
  }
})

test('deterministic: shuffled input gives the identical result', () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const s = scenario(seed)
    const random = seededRandom(seed * 7919)
    const one = assignTasks(s)
    const two = assignTasks({ ...s, tasks: shuffled(s.tasks, random), members: shuffled(s.members, random) })
    assert.deepEqual(two, one, `seed ${seed}`)
  }
})

test('from any start, rebalancing converges to a balanced, stable assignment with no follow-up', () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const s = scenario(seed)
    let members = s.members
    let result = assignTasks(s)
    let rounds = 1
    while (result.followupRebalanceNeeded) {
      assert.ok(rounds < 60, `seed ${seed} converges`)
      members = nextRound(members, result)
      const next = { ...s, members }
      result = assignTasks(next)
      assert.deepEqual(invariantViolations(s.tasks, members, result), [], `seed ${seed} round ${rounds}`)
      assert.deepEqual(haViolations(next, result), [], `seed ${seed} round ${rounds}`)
      rounds++
    }
    const counts = [...result.perMember]
      .filter(([id]) => {
        const m = members.find((candidate) => candidate.memberId === id)!
        return !m.draining || members.every((candidate) => candidate.draining)
      })
      .map(([, a]) => a.activeTasks.length)
    if (counts.length > 0) assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `seed ${seed}: ${counts}`)
    // Stable: one more rebalance moves nothing.
    const again = assignTasks({ ...s, members: nextRound(members, result) })
    for (const [id, a] of again.perMember) assert.deepEqual(a.revokedTasks, [], `seed ${seed}: ${id} keeps its tasks`)
  }
})
