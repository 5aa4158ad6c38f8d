import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assignTasks, deriveTasks, type TaskIdText } from '../../../src/assignment/index.ts'
import { ConfigError } from '../../../src/errors.ts'
import { activeCounts, member, nextRound, ownerOf, rebalanceUntilStable, simpleTasks } from './support.ts'

test('a fresh group gets every task exactly once, balanced to within one', () => {
  const tasks = simpleTasks(10)
  const result = assignTasks({ tasks, members: [member('a'), member('b'), member('c')] })
  assert.deepEqual([...activeCounts(result).values()].sort(), [3, 3, 4])
  assert.equal(ownerOf(result).size, 10)
  assert.equal(result.followupRebalanceNeeded, false)
})

test('input partitions go only to the active owner, for every co-partitioned topic', () => {
  const tasks = deriveTasks([
    { subtopologyId: 0, sourceTopics: ['orders', 'customers'], partitions: 2, stateful: true }
  ])
  const result = assignTasks({ tasks, members: [member('a'), member('b')], config: { numStandbyReplicas: 1 } })
  const a = result.perMember.get('a')!
  assert.deepEqual(a.activeTasks, ['0_0'])
  assert.deepEqual(a.standbyTasks, ['0_1'])
  assert.deepEqual(a.partitions, [
    { topic: 'customers', partitions: [0] },
    { topic: 'orders', partitions: [0] }
  ])
  assert.deepEqual(result.partitionsByHost.get('b:8080'), [
    { topic: 'customers', partitions: [1] },
    { topic: 'orders', partitions: [1] }
  ])
  assert.deepEqual(result.standbyPartitionsByHost.get('a:8080'), [
    { topic: 'customers', partitions: [1] },
    { topic: 'orders', partitions: [1] }
  ])
})

test('sticky: a steady group keeps every task where it is', () => {
  const tasks = simpleTasks(12)
  const { members } = rebalanceUntilStable(tasks, [member('a'), member('b'), member('c')])
  const before = assignTasks({ tasks, members })
  const after = assignTasks({ tasks, members: nextRound(members, before) })
  assert.deepEqual(ownerOf(after), ownerOf(before))
  for (const assignment of after.perMember.values()) assert.deepEqual(assignment.revokedTasks, [])
})

test('adding a member moves the minimum number of tasks (stateless tasks move at once)', () => {
  const tasks = simpleTasks(12, false)
  const { members } = rebalanceUntilStable(tasks, [member('a'), member('b'), member('c')])
  const before = ownerOf(assignTasks({ tasks, members }))
  const grown = [...members, member('d')]

  // Eager: the new member gets its 3 tasks right away, and only those 3 move.
  const eager = assignTasks({ tasks, members: grown, config: { cooperative: false } })
  assert.deepEqual([...activeCounts(eager).values()], [3, 3, 3, 3])
  const moved = [...ownerOf(eager)].filter(([task, owner]) => before.get(task) !== owner)
  assert.equal(moved.length, 3)
  assert.ok(moved.every(([, owner]) => owner === 'd'))

  // Cooperative: the same 3 are revoked first, withheld, and handed to d one rebalance later.
  const first = assignTasks({ tasks, members: grown })
  const revoked = [...first.perMember.values()].flatMap((a) => a.revokedTasks)
  assert.equal(revoked.length, 3)
  assert.deepEqual(first.perMember.get('d')!.activeTasks, [])
  assert.deepEqual(
    [...first.pendingHandovers.values()].map((h) => h.to),
    ['d', 'd', 'd']
  )
  assert.equal(first.followupRebalanceNeeded, true)
  for (const [id, assignment] of first.perMember) {
    assert.equal(assignment.nextRebalanceDelayMs, assignment.revokedTasks.length > 0 ? 0 : -1, id)
  }
  const second = assignTasks({ tasks, members: nextRound(grown, first) })
  assert.deepEqual(second.perMember.get('d')!.activeTasks, [...revoked].sort())
  assert.equal(second.followupRebalanceNeeded, false)
  assert.equal([...second.perMember.values()].flatMap((a) => a.revokedTasks).length, 0)
})

test('removing a member moves only its tasks', () => {
  const tasks = simpleTasks(12, false)
  const { members } = rebalanceUntilStable(tasks, [member('a'), member('b'), member('c'), member('d')])
  const before = ownerOf(assignTasks({ tasks, members }))
  const after = assignTasks({ tasks, members: members.filter((m) => m.memberId !== 'd') })
  assert.deepEqual([...activeCounts(after).values()], [4, 4, 4])
  for (const [task, owner] of ownerOf(after)) {
    if (before.get(task) !== 'd') assert.equal(owner, before.get(task), task)
  }
})

test('deterministic: member order and task order do not change the result', () => {
  const tasks = deriveTasks([
    { subtopologyId: 0, sourceTopics: ['a'], partitions: 7, stateful: true },
    { subtopologyId: 1, sourceTopics: ['b'], partitions: 5, stateful: false }
  ])
  const members = [
    member('m3', { taskLags: new Map<TaskIdText, bigint>([['0_1', 5n]]), ownedActive: ['0_2'] }),
    member('m1', { ownedActive: ['0_0', '1_4'], ownedStandby: ['0_1'] }),
    member('m2', { processId: 'p-m1' })
  ]
  const config = { numStandbyReplicas: 1 }
  const one = assignTasks({ tasks, members, config })
  const two = assignTasks({ tasks: [...tasks].reverse(), members: [...members].reverse(), config })
  assert.deepEqual([...one.perMember].sort(), [...two.perMember].sort())
  assert.deepEqual(one.log, two.log)
})

test('several members of one process: balanced per member, no two replicas in the process', () => {
  const tasks = simpleTasks(8)
  const members = [
    member('a1', { processId: 'A' }),
    member('a2', { processId: 'A' }),
    member('b1', { processId: 'B' }),
    member('b2', { processId: 'B' })
  ]
  const result = assignTasks({ tasks, members, config: { numStandbyReplicas: 1 } })
  assert.deepEqual([...activeCounts(result).values()], [2, 2, 2, 2])
  const processOf = (id: string) => id[0]
  for (const [task, owner] of ownerOf(result)) {
    const standbyHolders = [...result.perMember].filter(([, a]) => a.standbyTasks.includes(task))
    assert.equal(standbyHolders.length, 1)
    assert.notEqual(processOf(standbyHolders[0]![0]), processOf(owner))
  }
})

test('no members or no tasks: an empty, valid result', () => {
  assert.equal(assignTasks({ tasks: simpleTasks(3), members: [] }).perMember.size, 0)
  const result = assignTasks({ tasks: [], members: [member('a')] })
  assert.deepEqual(result.perMember.get('a')!.activeTasks, [])
  assert.equal(result.followupRebalanceNeeded, false)
})

test('invalid configuration names the field; duplicate member ids are rejected', () => {
  assert.throws(
    () => assignTasks({ tasks: [], members: [], config: { maxWarmupReplicas: 0 } }),
    (error: unknown) => error instanceof ConfigError && error.field === 'assignment.maxWarmupReplicas'
  )
  assert.throws(() => assignTasks({ tasks: [], members: [member('a'), member('a')] }), /appears twice/)
})

test('a member joining takes a share of every sub-topology, not just the cheap stateless tasks', () => {
  const tasks = deriveTasks([
    { subtopologyId: 0, sourceTopics: ['lines'], partitions: 4, stateful: false },
    { subtopologyId: 1, sourceTopics: ['words-repartition'], partitions: 4, stateful: true }
  ])
  // Without high availability every member counts as caught up: placement is sticky and balanced only.
  const config = { highAvailability: false }
  const members = [member('a', { ownedActive: tasks.map((t) => t.id) }), member('b')]
  const { results } = rebalanceUntilStable(tasks, members, config)
  const owners = ownerOf(results.at(-1)!)
  for (const memberId of ['a', 'b']) {
    for (const sub of [0, 1]) {
      const owned = [...owners].filter(([task, owner]) => owner === memberId && task.startsWith(`${sub}_`)).length
      assert.equal(owned, 2, `${memberId} owns ${owned} tasks of sub-topology ${sub}`)
    }
  }
})
