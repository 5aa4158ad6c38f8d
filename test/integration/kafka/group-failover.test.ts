import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopic, describeGroup } from './fixtures/group-admin.ts'
import {
  allLabels,
  type ChildMember,
  converged,
  labels,
  type MemberConfig,
  ownerView,
  type RecordedMember,
  spawnMember,
  startMember
} from './fixtures/group-harness.ts'

/**
 * Members that die without a word (SIGKILL in a child process): a dynamic one is dropped after its session timeout
 * and its partitions move; a static one that comes back within the session timeout gets its partitions back and
 * nobody else notices.
 */
const brokers = testBrokers()
const members: RecordedMember[] = []
const children: ChildMember[] = []

function inProcess(name: string, config: MemberConfig): RecordedMember {
  const record = startMember(name, config)
  members.push(record)
  return record
}

function child(config: MemberConfig): ChildMember {
  const spawned = spawnMember(config)
  children.push(spawned)
  return spawned
}

function childView(c: ChildMember) {
  const latest = c.latest()
  return {
    generationId: latest?.generationId ?? -1,
    stable: latest !== undefined,
    partitions: latest?.partitions ?? []
  }
}

after(async () => {
  for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL')
  await Promise.allSettled(members.map((r) => r.member.close()))
})

describe('group failover on the real broker', () => {
  test('a SIGKILLed member is dropped after the session timeout and its partitions move to the survivors', async () => {
    const topic = uniqueName('failover')
    const groupId = uniqueName('group')
    await createTopic(brokers, topic, 6)
    const sessionTimeoutMs = 3_000
    const config = {
      brokers,
      groupId,
      topics: [topic],
      sessionTimeoutMs,
      heartbeatIntervalMs: 300,
      rebalanceTimeoutMs: 10_000
    }
    const a = inProcess('a', config)
    const b = inProcess('b', config)
    const c = child(config)
    await waitFor('three members to converge', () =>
      converged([ownerView(a), ownerView(b), childView(c)], allLabels(topic, 6))
    )
    const killedGeneration = a.member.generationId
    const orphaned = childView(c).partitions
    assert.equal(orphaned.length, 2)

    const revokedBefore = a.revoked.length + b.revoked.length
    const assignedBefore = { a: a.assigned.length, b: b.assigned.length }
    const killedAt = Date.now()
    c.process.kill('SIGKILL')
    await c.exited
    await waitFor(
      'the survivors to own every partition',
      () => converged([ownerView(a), ownerView(b)], allLabels(topic, 6)),
      {
        timeoutMs: 20_000
      }
    )
    const detectedMs = Date.now() - killedAt
    console.log(
      `# SIGKILLed member dropped and its partitions moved after ${detectedMs} ms (session timeout ${sessionTimeoutMs} ms)`
    )

    assert.ok(a.member.generationId > killedGeneration)
    // The broker only notices through the missing heartbeats: not before most of the session timeout has passed.
    assert.ok(detectedMs >= sessionTimeoutMs - 1_000, `moved after ${detectedMs} ms`)
    const gained = [...a.assigned.slice(assignedBefore.a), ...b.assigned.slice(assignedBefore.b)].flatMap((change) =>
      labels(change.added)
    )
    for (const partition of orphaned) assert.ok(gained.includes(partition), `${partition} moved to a survivor`)
    // Survivors only gained: nothing was revoked from them and nothing was lost.
    assert.deepEqual([...a.lost, ...b.lost], [])
    assert.equal(a.revoked.length + b.revoked.length, revokedBefore)
    const group = await describeGroup(brokers, groupId)
    assert.equal(group.members.length, 2)
  })

  test('a static member restarted within the session timeout gets its partitions back without a rebalance', async () => {
    const topic = uniqueName('static')
    const groupId = uniqueName('group')
    await createTopic(brokers, topic, 6)
    const sessionTimeoutMs = 10_000
    const config = {
      brokers,
      groupId,
      topics: [topic],
      sessionTimeoutMs,
      heartbeatIntervalMs: 300,
      rebalanceTimeoutMs: 10_000
    }
    // The child joins first so it is the leader: a restarted static leader must not trigger a rebalance either.
    const c = child({ ...config, groupInstanceId: 'pod-c' })
    await waitFor('the child to join', () => c.latest())
    const a = inProcess('a', { ...config, groupInstanceId: 'pod-a' })
    const b = inProcess('b', { ...config, groupInstanceId: 'pod-b' })
    await waitFor('three members to converge', () =>
      converged([ownerView(a), ownerView(b), childView(c)], allLabels(topic, 6))
    )
    const before = childView(c)
    assert.equal(c.latest()?.isLeader, true)
    const generation = a.member.generationId
    const seen = {
      a: [a.assigned.length, a.revoked.length, a.joins],
      b: [b.assigned.length, b.revoked.length, b.joins]
    }

    const killedAt = Date.now()
    c.process.kill('SIGKILL')
    await c.exited
    const restarted = child({ ...config, groupInstanceId: 'pod-c' })
    const back = await waitFor('the restarted member to get an assignment', () => restarted.latest())
    const restartMs = Date.now() - killedAt
    console.log(
      `# static member killed, restarted and reassigned in ${restartMs} ms (session timeout ${sessionTimeoutMs} ms)`
    )

    assert.deepEqual(back.partitions, before.partitions, 'same partitions as before the kill')
    assert.equal(back.generationId, generation, 'no new generation')
    assert.ok(restartMs < sessionTimeoutMs)
    // Let the old member's session timeout pass, with the others heartbeating all along: still no rebalance.
    const beats = { a: a.heartbeats, b: b.heartbeats }
    await waitFor(
      'the old session timeout to pass while the others heartbeat',
      () =>
        Date.now() - killedAt > sessionTimeoutMs + 1_000 && a.heartbeats > beats.a + 3 && b.heartbeats > beats.b + 3,
      { timeoutMs: sessionTimeoutMs + 15_000 }
    )
    for (const [name, record] of [
      ['a', a],
      ['b', b]
    ] as const) {
      assert.equal(record.member.generationId, generation, `${name} kept its generation`)
      assert.equal(record.member.state, 'stable')
      assert.deepEqual(
        [record.assigned.length, record.revoked.length, record.joins],
        seen[name],
        `${name}: no onAssigned, onRevoke or rejoin`
      )
    }
    assert.equal(restarted.reports.filter((r) => r.type === 'assigned').length, 1)
    const group = await describeGroup(brokers, groupId)
    assert.equal(group.state, 'Stable')
    const described = group.members.find((m) => m.groupInstanceId === 'pod-c')
    assert.equal(described?.memberId, back.memberId)
    assert.deepEqual(labels(described?.assignment), before.partitions)
  })
})
