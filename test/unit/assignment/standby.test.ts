import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assignTasks, deriveTasks, type TaskAssignmentResult, type TaskIdText } from '../../../src/assignment/index.ts'
import { lags, member, nextRound, ownerOf, rebalanceUntilStable, simpleTasks } from './support.ts'

function standbyHolders(result: TaskAssignmentResult): Map<TaskIdText, string[]> {
  const holders = new Map<TaskIdText, string[]>()
  for (const [id, a] of result.perMember)
    for (const task of a.standbyTasks) holders.set(task, [...(holders.get(task) ?? []), id])
  return holders
}

test('each stateful task gets numStandbyReplicas standbys on other processes, balanced', () => {
  const tasks = simpleTasks(6)
  const members = [member('a'), member('b'), member('c')]
  const result = assignTasks({ tasks, members, config: { numStandbyReplicas: 1 } })
  const owners = ownerOf(result)
  const holders = standbyHolders(result)
  for (const task of tasks) {
    assert.equal(holders.get(task.id)?.length, 1, task.id)
    assert.notEqual(holders.get(task.id)![0], owners.get(task.id))
  }
  assert.deepEqual(
    [...result.perMember.values()].map((a) => a.standbyTasks.length),
    [2, 2, 2]
  )
})

test('two standbys land on two distinct processes, neither the active one', () => {
  const tasks = simpleTasks(4)
  const members = [member('a'), member('b', { processId: 'shared' }), member('c', { processId: 'shared' }), member('d')]
  const result = assignTasks({ tasks, members, config: { numStandbyReplicas: 2 } })
  const processOf = (id: string) => members.find((m) => m.memberId === id)!.processId
  const owners = ownerOf(result)
  for (const [task, holders] of standbyHolders(result)) {
    const processes = [processOf(owners.get(task)!), ...holders.map(processOf)]
    assert.equal(new Set(processes).size, 3, `${task}: ${processes}`)
  }
})

test('fewer processes than replicas: places what fits and says so', () => {
  const result = assignTasks({
    tasks: simpleTasks(2),
    members: [member('a'), member('b')],
    config: { numStandbyReplicas: 2 }
  })
  assert.deepEqual(
    [...standbyHolders(result).values()].map((h) => h.length),
    [1, 1]
  )
  assert.ok(
    result.log.some((line) => /2 standby replica\(s\) not placed/.test(line)),
    result.log.join('\n')
  )
})

test('standbys go to members that already have state', () => {
  const tasks = simpleTasks(2)
  const members = [
    member('a', { ownedActive: ['0_0'] }),
    member('b', { ownedActive: ['0_1'] }),
    member('c'),
    member('d', { taskLags: lags({ '0_0': 3, '0_1': 2_000_000 }) })
  ]
  const result = assignTasks({ tasks, members, config: { numStandbyReplicas: 1 } })
  assert.deepEqual(result.perMember.get('d')!.standbyTasks, ['0_0'])
})

test('standbys stay where they are across rebalances', () => {
  const tasks = simpleTasks(9)
  const config = { numStandbyReplicas: 1 }
  const { members } = rebalanceUntilStable(tasks, [member('a'), member('b'), member('c')], config)
  const before = assignTasks({ tasks, members, config })
  const after = assignTasks({ tasks, members: nextRound(members, before), config })
  assert.deepEqual(standbyHolders(after), standbyHolders(before))
})

test('stateless tasks get no standbys', () => {
  const tasks = deriveTasks([{ subtopologyId: 0, sourceTopics: ['x'], partitions: 4, stateful: false }])
  const result = assignTasks({ tasks, members: [member('a'), member('b')], config: { numStandbyReplicas: 1 } })
  assert.equal(standbyHolders(result).size, 0)
})
