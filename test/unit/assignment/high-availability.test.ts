import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type AssignorMember, assignTasks, deriveTasks, type TaskIdText } from '../../../src/assignment/index.ts'
import { activeCounts, lags, member, nextRound, ownerOf, rebalanceUntilStable, simpleTasks } from './support.ts'

const tasks = simpleTasks(12)

function stableGroupOfTwo(): AssignorMember[] {
  return rebalanceUntilStable(tasks, [member('a'), member('b')]).members
}

test('a new member without state gets warm-ups, not actives; nothing stops running', () => {
  const members = [...stableGroupOfTwo(), member('c')]
  const result = assignTasks({ tasks, members, leaderMemberId: 'a' })
  const c = result.perMember.get('c')!
  assert.deepEqual(c.activeTasks, [])
  assert.equal(c.warmupTasks.length, 2, 'maxWarmupReplicas defaults to 2')
  assert.equal(c.followupRebalance, true, 'c rejoins as soon as its warm-ups catch up')
  assert.equal(result.followupRebalanceNeeded, true)
  assert.equal(result.perMember.get('a')!.nextRebalanceDelayMs, 600_000, 'the leader schedules the probing rebalance')
  assert.equal(result.perMember.get('b')!.nextRebalanceDelayMs, -1)
  for (const [id, assignment] of result.perMember) {
    assert.deepEqual(assignment.revokedTasks, [], `${id} keeps every task it runs`)
  }
  // Warm-ups come from both over-quota members, so each can give one away once they are caught up.
  const owners = ownerOf(result)
  assert.deepEqual(new Set(c.warmupTasks.map((task) => owners.get(task))), new Set(['a', 'b']))
})

test('once the warm-ups report lag 0 the tasks move, eagerly in one rebalance', () => {
  const members = [...stableGroupOfTwo(), member('c')]
  const first = assignTasks({ tasks, members, config: { cooperative: false } })
  const warmed = first.perMember.get('c')!.warmupTasks
  const second = assignTasks({ tasks, members: nextRound(members, first), config: { cooperative: false } })
  assert.deepEqual(second.perMember.get('c')!.activeTasks, warmed)
  assert.equal(second.perMember.get('c')!.warmupTasks.length, 2, 'the next two warm up')
})

test('a warm-up still behind keeps warming; the task does not move', () => {
  const members = [...stableGroupOfTwo(), member('c')]
  const first = assignTasks({ tasks, members, config: { cooperative: false } })
  const warmed = first.perMember.get('c')!.warmupTasks
  const behind = nextRound(members, first, (_task, id) => (id === 'c' ? 50_000n : 0n))
  const second = assignTasks({ tasks, members: behind, config: { cooperative: false } })
  assert.deepEqual(second.perMember.get('c')!.activeTasks, [])
  assert.deepEqual(second.perMember.get('c')!.warmupTasks, warmed, 'same tasks keep warming (no restart elsewhere)')
  assert.equal(second.followupRebalanceNeeded, true)
})

test('scale-out converges to balance, and no round gives a task to a member that is not caught up', () => {
  for (const cooperative of [true, false]) {
    let members = [...stableGroupOfTwo(), member('c'), member('d')]
    let rounds = 0
    for (;;) {
      const result = assignTasks({ tasks, members, config: { cooperative, maxWarmupReplicas: 2 } })
      const warmups = [...result.perMember.values()].reduce((n, a) => n + a.warmupTasks.length, 0)
      const budgeted = warmups - (cooperative ? result.pendingHandovers.size : 0)
      assert.ok(budgeted <= 2, `at most maxWarmupReplicas warm-ups (round ${rounds}: ${budgeted})`)
      for (const [id, assignment] of result.perMember) {
        const subscription = members.find((m) => m.memberId === id)!
        for (const task of assignment.activeTasks) {
          const owned = [...(subscription.ownedActive ?? [])].includes(task)
          const lag = subscription.taskLags?.get(task)
          assert.ok(owned || (lag !== undefined && lag <= 10_000n), `${task} given to ${id} with lag ${lag}`)
        }
      }
      members = nextRound(members, result)
      rounds++
      if (!result.followupRebalanceNeeded) {
        assert.deepEqual(
          [...result.perMember.values()].map((a) => a.activeTasks.length),
          [3, 3, 3, 3]
        )
        break
      }
      assert.ok(rounds < 20, 'converges')
    }
    assert.ok(rounds >= 3, 'six tasks cannot move on a budget of two warm-ups at once')
  }
})

test('the warm-up budget is shared across the group', () => {
  const members = [...stableGroupOfTwo(), member('c'), member('d')]
  const result = assignTasks({ tasks, members, config: { maxWarmupReplicas: 3 } })
  const warmups = [...result.perMember.values()].flatMap((a) => a.warmupTasks)
  assert.equal(warmups.length, 3)
  assert.ok(result.perMember.get('c')!.warmupTasks.length >= 1)
  assert.ok(result.perMember.get('d')!.warmupTasks.length >= 1)
})

test('a member with local state within acceptableRecoveryLag takes tasks at once (restart with its state dir)', () => {
  const stable = stableGroupOfTwo()
  const restartedLags = lags(Object.fromEntries(tasks.slice(0, 6).map((t) => [t.id, 500])))
  const members = [...stable, member('c', { taskLags: restartedLags })]
  const result = assignTasks({ tasks, members, config: { cooperative: false } })
  const c = result.perMember.get('c')!
  assert.equal(c.activeTasks.length, 4)
  assert.ok(c.activeTasks.every((task) => restartedLags.has(task)))
  assert.deepEqual(c.warmupTasks, [])
  assert.equal(result.followupRebalanceNeeded, false)
})

test('nobody caught up: the task goes to the most caught-up member, and the balanced target warms up', () => {
  const one = simpleTasks(1)
  const members = [
    member('a', { taskLags: lags({ '0_0': 50_000 }) }),
    member('b', { taskLags: lags({ '0_0': 20_000 }) }),
    member('c')
  ]
  assert.deepEqual(assignTasks({ tasks: one, members }).perMember.get('b')!.activeTasks, ['0_0'])

  // Both tasks lost their owner; only b has (stale) state, so b restores both and a warms one up for later.
  const two = simpleTasks(2)
  const result = assignTasks({
    tasks: two,
    members: [member('a'), member('b', { taskLags: lags({ '0_0': 20_000, '0_1': 20_000 }) })]
  })
  assert.deepEqual(result.perMember.get('b')!.activeTasks, ['0_0', '0_1'])
  assert.equal(result.perMember.get('a')!.warmupTasks.length, 1)
  assert.equal(result.followupRebalanceNeeded, true)
})

test('stateless tasks never get warm-ups: they have nothing to restore', () => {
  const stateless = simpleTasks(12, false)
  const { members } = rebalanceUntilStable(stateless, [member('a'), member('b')])
  const result = assignTasks({ tasks: stateless, members: [...members, member('c')], config: { cooperative: false } })
  assert.equal(result.perMember.get('c')!.activeTasks.length, 4)
  assert.deepEqual(result.perMember.get('c')!.warmupTasks, [])
  assert.equal(result.followupRebalanceNeeded, false)
})

test('standbys count as caught up: losing an active owner fails over to its standby', () => {
  const { members } = rebalanceUntilStable(tasks, [member('a'), member('b'), member('c')], { numStandbyReplicas: 1 })
  const before = assignTasks({ tasks, members, config: { numStandbyReplicas: 1 } })
  const standbyOf = new Map<TaskIdText, string>()
  for (const [id, a] of before.perMember) for (const task of a.standbyTasks) standbyOf.set(task, id)
  // c crashes (no LeaveGroup, no revocation): its tasks are free at once.
  const survivors = members.filter((m) => m.memberId !== 'c')
  const after = assignTasks({ tasks, members: survivors, config: { numStandbyReplicas: 1 } })
  for (const task of before.perMember.get('c')!.activeTasks) {
    assert.equal(ownerOf(after).get(task), standbyOf.get(task), `${task} fails over to its standby`)
  }
  assert.equal(after.followupRebalanceNeeded, false)
})

test('a pod restarted with its volume gets its stateful tasks back, though another member has older copies', () => {
  // The word-count shape: split (stateless, 0_x) -> count (stateful, 1_x), 4 partitions, 3 pods. a was stopped and
  // comes back on a fresh volume, b was killed and comes back with its volume; neither runs anything yet. c kept
  // running and still has directories of 1_1 and 1_3 from before they moved to b: within acceptableRecoveryLag,
  // but older than b's copies.
  const wordCount = deriveTasks([
    { subtopologyId: 0, sourceTopics: ['lines'], partitions: 4, stateful: false },
    { subtopologyId: 1, sourceTopics: ['words'], partitions: 4, stateful: true }
  ])
  const members = [
    member('a'),
    member('b', { taskLags: lags({ '1_1': 2_000, '1_3': 2_500 }) }),
    member('c', {
      ownedActive: ['0_2', '1_2'] as TaskIdText[],
      taskLags: lags({ '1_2': 0, '1_1': 6_000, '1_3': 7_000 })
    })
  ]
  for (const cooperative of [true, false]) {
    const result = assignTasks({ tasks: wordCount, members, config: { cooperative } })
    const b = result.perMember.get('b')!
    assert.deepEqual(
      b.activeTasks.filter((task) => task.startsWith('1_')),
      ['1_1', '1_3'],
      'b restores only the delta since its checkpoints'
    )
    assert.deepEqual(b.warmupTasks, [])
    assert.deepEqual(result.perMember.get('c')!.activeTasks.includes('1_2' as TaskIdText), true, 'c keeps its task')
    assert.deepEqual([...activeCounts(result).values()].sort(), [2, 3, 3], 'balanced')
  }
})

test('an orphan goes to the caught-up member with the least lag, unless another holds a standby of it', () => {
  const five = simpleTasks(5)
  const members = [
    member('a', { ownedActive: ['0_1', '0_2'] as TaskIdText[], taskLags: lags({ '0_0': 100 }) }),
    member('b', { ownedActive: ['0_3'] as TaskIdText[], taskLags: lags({ '0_0': 9_000 }) })
  ]
  const owner = (ms: AssignorMember[]) => ownerOf(assignTasks({ tasks: five, members: ms })).get('0_0' as TaskIdText)
  assert.equal(owner(members), 'a', 'a restores 100 records, b would restore 9,000')
  // A standby is kept up to date continuously: its holder is preferred (the scale-in handover path).
  const withStandby = [members[0]!, { ...members[1]!, ownedStandby: ['0_0' as TaskIdText] }]
  assert.equal(owner(withStandby), 'b')
})

test('a late joiner warms up a stateful task rather than taking only stateless ones: every member gets state', () => {
  // Two pods formed the group and split everything; the third joins late. Balance by count alone would give it two
  // stateless tasks (it is caught up on those only) and leave it without any count task for good.
  const wordCount = deriveTasks([
    { subtopologyId: 0, sourceTopics: ['lines'], partitions: 4, stateful: false },
    { subtopologyId: 1, sourceTopics: ['words'], partitions: 4, stateful: true }
  ])
  const held = (ids: string[]) => ({
    ownedActive: ids as TaskIdText[],
    taskLags: lags(Object.fromEntries(ids.map((id) => [id, 0])))
  })
  const members = [
    member('a'),
    member('b', held(['0_0', '0_2', '1_0', '1_2'])),
    member('c', held(['0_1', '0_3', '1_1', '1_3']))
  ]
  const first = assignTasks({ tasks: wordCount, members, config: { cooperative: false } })
  const a = first.perMember.get('a')!
  assert.equal(a.activeTasks.length, 1, 'one stateless task moves at once')
  assert.equal(a.warmupTasks.length, 1, 'a count task warms up for the other slot')
  assert.ok(a.warmupTasks[0]!.startsWith('1_'))
  assert.equal(first.followupRebalanceNeeded, true)

  const { results } = rebalanceUntilStable(wordCount, members)
  const owners = ownerOf(results.at(-1)!)
  for (const id of ['a', 'b', 'c']) {
    const counts = [...owners].filter(([task, owner]) => owner === id && task.startsWith('1_')).length
    assert.ok(counts >= 1, `${id} runs ${counts} count tasks`)
  }
  assert.deepEqual([...activeCounts(results.at(-1)!).values()].sort(), [2, 3, 3])
})

/** Every task's changelogs at the same end offset sum, as the leader reads them. */
function endOffsets(sum: number): Map<TaskIdText, bigint> {
  return new Map(tasks.map((task) => [task.id, BigInt(sum)]))
}

test('empty changelogs: a member without state is caught up, so a new member takes actives at once, no warm-ups', () => {
  for (const cooperative of [true, false]) {
    const changelogEndOffsets = endOffsets(0)
    const { members } = rebalanceUntilStable(tasks, [member('a'), member('b')])
    let current = [...members, member('c')]
    let rounds = 0
    for (;;) {
      const result = assignTasks({ tasks, members: current, changelogEndOffsets, config: { cooperative } })
      rounds++
      // Only the cooperative handover's own warm-ups (the target prepares while the old owner commits and closes),
      // none held back waiting to catch up: the move happens in the next round, not after a probing rebalance.
      for (const [id, assignment] of result.perMember) {
        const handovers = assignment.warmupTasks.filter((task) => result.pendingHandovers.get(task)?.to === id)
        assert.deepEqual(assignment.warmupTasks, handovers, `${id} warms nothing but its handovers`)
      }
      current = nextRound(current, result)
      if (!result.followupRebalanceNeeded) break
    }
    assert.ok(rounds <= 2, `balanced without probing rounds (cooperative ${cooperative}: ${rounds} rounds)`)
    const assigned = assignTasks({ tasks, members: current, changelogEndOffsets, config: { cooperative } })
    assert.deepEqual([...activeCounts(assigned).values()], [4, 4, 4])
  }
})

test('a fresh group whose members join one by one spreads the actives at once when the changelogs are small', () => {
  const changelogEndOffsets = endOffsets(9_000)
  let current: AssignorMember[] = []
  for (const id of ['a', 'b', 'c']) {
    current = [...current, member(id)]
    const result = assignTasks({ tasks, members: current, changelogEndOffsets, config: { cooperative: false } })
    for (const assignment of result.perMember.values()) assert.deepEqual(assignment.warmupTasks, [])
    assert.equal(result.followupRebalanceNeeded, false)
    assert.deepEqual(
      [...activeCounts(result).values()],
      current.map(() => 12 / current.length)
    )
    current = nextRound(current, result)
  }
})

test('changelogs longer than acceptableRecoveryLag still warm up on a member without state', () => {
  const members = [...stableGroupOfTwo(), member('c')]
  const result = assignTasks({ tasks, members, changelogEndOffsets: endOffsets(10_001), leaderMemberId: 'a' })
  assert.deepEqual(result.perMember.get('c')!.activeTasks, [])
  assert.equal(result.perMember.get('c')!.warmupTasks.length, 2)
})
