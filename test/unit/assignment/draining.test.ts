import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type AssignorMember, assignTasks, type TaskIdText } from '../../../src/assignment/index.ts'
import { member, nextRound, ownerOf, rebalanceUntilStable, simpleTasks } from './support.ts'

const tasks = simpleTasks(6)
const config = { numStandbyReplicas: 1 }

function stableGroup(): AssignorMember[] {
  return rebalanceUntilStable(tasks, [member('a'), member('b'), member('c')], config).members
}

function standbyOwner(members: readonly AssignorMember[]): Map<TaskIdText, string> {
  const holders = new Map<TaskIdText, string>()
  for (const m of members) for (const task of m.ownedStandby ?? []) holders.set(task, m.memberId)
  return holders
}

test('a draining member gets nothing; its tasks go to the members holding their standbys', () => {
  const members = stableGroup()
  const cTasks = [...members.find((m) => m.memberId === 'c')!.ownedActive!]
  assert.equal(cTasks.length, 2)
  const standbys = standbyOwner(members)
  const draining = members.map((m) => (m.memberId === 'c' ? { ...m, draining: true } : m))

  const result = assignTasks({ tasks, members: draining, config: { ...config, cooperative: false } })
  const c = result.perMember.get('c')!
  assert.deepEqual([...c.activeTasks, ...c.standbyTasks, ...c.warmupTasks], [])
  assert.deepEqual(c.revokedTasks, cTasks)
  for (const task of cTasks) assert.equal(ownerOf(result).get(task), standbys.get(task), `${task} to its standby`)
  assert.deepEqual(
    [...result.perMember.values()].map((a) => a.activeTasks.length),
    [3, 3, 0]
  )
  assert.equal(result.followupRebalanceNeeded, false, 'no warm-up needed: the standbys were caught up')
})

test('cooperative scale-in: revoke and commit first, then hand over to the standby holders', () => {
  const members = stableGroup()
  const cTasks = [...members.find((m) => m.memberId === 'c')!.ownedActive!]
  const standbys = standbyOwner(members)
  const draining = members.map((m) => (m.memberId === 'c' ? { ...m, draining: true } : m))

  const first = assignTasks({ tasks, members: draining, config })
  const c = first.perMember.get('c')!
  assert.deepEqual(c.activeTasks, [])
  assert.deepEqual(c.revokedTasks, cTasks)
  assert.equal(c.nextRebalanceDelayMs, 0, 'c rejoins (or leaves) right after committing')
  assert.equal(first.followupRebalanceNeeded, true)
  for (const task of cTasks) {
    assert.equal(ownerOf(first).get(task), undefined, `${task} has no second consumer while c still runs it`)
    assert.equal(first.pendingHandovers.get(task)?.to, standbys.get(task))
    const target = first.perMember.get(standbys.get(task)!)!
    assert.ok(target.warmupTasks.includes(task), `${task}: the target keeps its copy current meanwhile`)
  }
  for (const id of ['a', 'b']) assert.deepEqual(first.perMember.get(id)!.revokedTasks, [], `${id} keeps running`)

  // c has revoked (owns nothing now) and is still in the group, or has already left: same outcome.
  for (const after of [nextRound(draining, first), nextRound(draining, first).filter((m) => m.memberId !== 'c')]) {
    const second = assignTasks({ tasks, members: after, config })
    for (const task of cTasks) assert.equal(ownerOf(second).get(task), standbys.get(task))
    assert.equal(second.followupRebalanceNeeded, false)
  }
})

test('when every member is draining they keep their tasks rather than stall everything', () => {
  const members = stableGroup().map((m) => ({ ...m, draining: true }))
  const result = assignTasks({ tasks, members, config })
  assert.equal(ownerOf(result).size, 6)
  assert.ok(result.log.some((line) => /every member is draining/.test(line)))
})
