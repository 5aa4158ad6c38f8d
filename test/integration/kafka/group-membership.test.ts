import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { OffsetCommitRejectedError } from '../../../src/kafka/errors.ts'
import {
  FencedInstanceError,
  GroupError,
  GroupMember,
  type GroupMemberOptions
} from '../../../src/kafka/group/index.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopic, describeGroup, describeWithKafkaTool } from './fixtures/group-admin.ts'
import { allLabels, converged, labels, ownerView, type RecordedMember, startMember } from './fixtures/group-harness.ts'
import { assignmentUserData, stickyAssignor } from './fixtures/sticky-assignor.ts'

const brokers = testBrokers()
const started: RecordedMember[] = []
const fast = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 200, rebalanceTimeoutMs: 15_000 }

function member(
  name: string,
  groupId: string,
  topics: string[],
  extra: Parameters<typeof startMember>[2] = undefined,
  config = {}
) {
  const record = startMember(name, { brokers, groupId, topics, ...fast, ...config }, extra)
  started.push(record)
  return record
}

after(async () => {
  await Promise.allSettled(started.map((r) => r.member.close()))
})

describe('group membership on the real broker', () => {
  test('three members each receive their own userData and together own every partition once', async () => {
    const orders = uniqueName('orders')
    const payments = uniqueName('payments')
    const groupId = uniqueName('group')
    await createTopic(brokers, orders, 4)
    await createTopic(brokers, payments, 3)
    const members = ['a', 'b', 'c'].map((name) => member(name, groupId, [orders, payments]))
    const expected = [...allLabels(orders, 4), ...allLabels(payments, 3)]
    await waitFor('three members to converge', () => converged(members.map(ownerView), expected))

    const userData = new Set<string>()
    for (const { member: m } of members) {
      const assignment = m.assignment
      assert.ok(assignment)
      // Byte for byte what the assignor produced for this member, and for no other.
      assert.deepEqual(assignment.userData, assignmentUserData(m.memberId, assignment.partitions))
      assert.equal(JSON.parse(assignment.userData.toString()).for, m.memberId)
      userData.add(assignment.userData.toString('hex'))
    }
    assert.equal(userData.size, 3)
    assert.equal(members.filter((r) => r.member.isLeader).length, 1)

    const group = await describeGroup(brokers, groupId)
    assert.equal(group.protocolType, 'consumer')
    assert.equal(group.protocol, 'streamlane')
    assert.equal(group.state, 'Stable')
    for (const { member: m } of members) {
      const described = group.members.find((d) => d.memberId === m.memberId)
      assert.ok(described, `member ${m.memberId} is described`)
      // The broker stored each member's own assignment, userData included, in the standard consumer-protocol form.
      assert.deepEqual(labels(described.assignment), labels(m.assignment?.partitions))
      assert.deepEqual(described.assignmentUserData, m.assignment?.userData)
    }

    // Kafka's own kafka-consumer-groups decodes the group (skipped when the broker's jars are not local).
    const tool = await describeWithKafkaTool(brokers, groupId)
    if (tool !== undefined) {
      assert.match(tool, /streamlane/)
      for (const { member: m } of members) assert.ok(tool.includes(m.memberId), tool)
    }
  })

  test('onRevoke is awaited and a joining member makes the others revoke only what they lose', async () => {
    const topic = uniqueName('events')
    const groupId = uniqueName('group')
    await createTopic(brokers, topic, 6)
    const gate = Promise.withResolvers<void>()
    const a = member('a', groupId, [topic], async (_, context) => {
      if (context.reason === 'rebalance') await gate.promise
    })
    await waitFor('a to own everything', () => converged([ownerView(a)], allLabels(topic, 6)))
    const before = labels(a.member.assignment?.partitions)

    const b = member('b', groupId, [topic])
    await waitFor('a to start revoking', () => a.revoked.length === 1)
    const revoking = labels(a.revoked[0]?.partitions)
    assert.equal(revoking.length, 3)
    const generation = a.member.generationId
    const joinsOfA = a.joins
    // While onRevoke is pending a does not rejoin, so b cannot get the partitions yet: several heartbeats of b
    // go by in the same generation with nothing assigned.
    const beatsOfB = b.heartbeats
    await waitFor('b to heartbeat in the meantime', () => b.heartbeats >= beatsOfB + 5)
    assert.equal(a.joins, joinsOfA)
    assert.equal(b.member.generationId, generation)
    assert.deepEqual(labels(b.member.assignment?.partitions), [])
    assert.equal(a.member.state, 'rebalancing')

    gate.resolve()
    await waitFor('a and b to converge', () => converged([ownerView(a), ownerView(b)], allLabels(topic, 6)))
    assert.deepEqual(labels(b.member.assignment?.partitions), revoking)
    assert.deepEqual(
      labels(a.member.assignment?.partitions),
      before.filter((p) => !revoking.includes(p))
    )
    assert.equal(a.revoked.length, 1, 'a revoked once, only what it lost')
    assert.deepEqual(a.lost, [])
    const change = a.assigned.find((c) => c.revoked.length > 0)
    assert.deepEqual(labels(change?.revoked), revoking)
    assert.deepEqual(labels(change?.retained), labels(a.member.assignment?.partitions))

    // A third member: each existing member revokes exactly what it hands to c, nothing more.
    const ownedBefore = { a: labels(a.member.assignment?.partitions), b: labels(b.member.assignment?.partitions) }
    const revokesBefore = { a: a.revoked.length, b: b.revoked.length }
    const c = member('c', groupId, [topic])
    await waitFor('three members to converge', () => converged([a, b, c].map(ownerView), allLabels(topic, 6)))
    const lostByA = a.revoked.slice(revokesBefore.a).flatMap((r) => labels(r.partitions))
    const lostByB = b.revoked.slice(revokesBefore.b).flatMap((r) => labels(r.partitions))
    assert.deepEqual([...lostByA, ...lostByB].sort(), labels(c.member.assignment?.partitions))
    assert.deepEqual(
      labels(a.member.assignment?.partitions),
      ownedBefore.a.filter((p) => !lostByA.includes(p))
    )
    assert.deepEqual(
      labels(b.member.assignment?.partitions),
      ownedBefore.b.filter((p) => !lostByB.includes(p))
    )
  })

  test('offsets round trip, and a commit for a stale generation is refused with a clear error', async () => {
    const topic = uniqueName('ledger')
    const groupId = uniqueName('group')
    await createTopic(brokers, topic, 3)
    const a = member('a', groupId, [topic])
    await waitFor('a to own everything', () => converged([ownerView(a)], allLabels(topic, 3)))

    await a.member.commitOffsets([
      { topic, partition: 0, offset: 10n, metadata: 'first' },
      { topic, partition: 1, offset: 20n }
    ])
    const fetched = await a.member.fetchOffsets([{ topic, partitions: [0, 1, 2] }])
    assert.deepEqual(
      fetched.map((o) => [o.partition, o.offset, o.metadata]).sort(),
      [
        [0, 10n, 'first'],
        [1, 20n, ''],
        [2, -1n, '']
      ].sort()
    )

    const stale = a.member.generation
    assert.ok(stale)
    const b = member('b', groupId, [topic])
    await waitFor('a second generation', () => converged([ownerView(a), ownerView(b)], allLabels(topic, 3)))
    assert.ok(a.member.generationId > stale.generationId)

    const refused: unknown = await a.member
      .commitOffsets([{ topic, partition: 0, offset: 99n }], { generation: stale })
      .then(
        () => undefined,
        (error: unknown) => error
      )
    assert.ok(refused instanceof OffsetCommitRejectedError, String(refused))
    assert.equal(refused.code, 'STREAMLANE_KAFKA_OFFSET_COMMIT_REJECTED')
    assert.equal(refused.kafkaCode, 'ILLEGAL_GENERATION')
    assert.equal(refused.generationId, stale.generationId)
    assert.match(refused.message, new RegExp(`group ${groupId} rejected offsets of generation ${stale.generationId}`))
    const [p0] = await a.member.fetchOffsets([{ topic, partitions: [0] }])
    assert.equal(p0?.offset, 10n, 'the refused commit changed nothing')

    await a.member.commitOffsets([{ topic, partition: 0, offset: 11n }])
    const [again] = await b.member.fetchOffsets([{ topic, partitions: [0] }])
    assert.equal(again?.offset, 11n)
  })

  test('a second process with the same static instance id fences the first with a clear error', async () => {
    const topic = uniqueName('fenced')
    const groupId = uniqueName('group')
    await createTopic(brokers, topic, 2)
    const first = member('first', groupId, [topic], undefined, { groupInstanceId: 'pod-0' })
    await waitFor('first to own everything', () => converged([ownerView(first)], allLabels(topic, 2)))
    const second = member('second', groupId, [topic], undefined, { groupInstanceId: 'pod-0' })
    await waitFor('the first member to fail', () => first.failures.length > 0)
    const [failure] = first.failures
    assert.ok(failure instanceof FencedInstanceError, String(failure))
    assert.equal(failure.code, 'STREAMLANE_GROUP_FENCED_INSTANCE')
    assert.match(failure.message, /pod-0/)
    assert.equal(first.member.state, 'failed')
    await waitFor('second to own everything', () => converged([ownerView(second)], allLabels(topic, 2)))
  })

  test('close: a dynamic member leaves at once; a static one stays in the group unless asked to leave', async () => {
    const topic = uniqueName('closing')
    const groupId = uniqueName('group')
    await createTopic(brokers, topic, 4)
    // A session timeout far longer than the test: only LeaveGroup can explain a member disappearing.
    const long = { sessionTimeoutMs: 60_000, heartbeatIntervalMs: 200 }
    const s1 = member('s1', groupId, [topic], undefined, { ...long, groupInstanceId: 'pod-s1' })
    const s2 = member('s2', groupId, [topic], undefined, { ...long, groupInstanceId: 'pod-s2' })
    const d = member('d', groupId, [topic], undefined, long)
    await waitFor('three members to converge', () => converged([s1, s2, d].map(ownerView), allLabels(topic, 4)))
    const ownedByD = labels(d.member.assignment?.partitions)

    await d.member.close()
    assert.equal(d.member.state, 'closed')
    assert.deepEqual(labels(d.revoked.at(-1)?.partitions), ownedByD)
    assert.equal(d.revoked.at(-1)?.context.reason, 'close')
    await waitFor('the static members to take over', () => converged([s1, s2].map(ownerView), allLabels(topic, 4)), {
      timeoutMs: 10_000
    })

    const generation = s2.member.generationId
    const ownedByS1 = labels(s1.member.assignment?.partitions)
    await s1.member.close()
    assert.deepEqual(labels(s1.revoked.at(-1)?.partitions), ownedByS1)
    const beats = s2.heartbeats
    await waitFor('s2 to heartbeat a few times', () => s2.heartbeats >= beats + 5)
    assert.equal(s2.member.generationId, generation, 'no rebalance: the closed static member is still in the group')
    const described = await describeGroup(brokers, groupId)
    assert.deepEqual(described.members.map((m) => m.groupInstanceId).sort(), ['pod-s1', 'pod-s2'])

    await s2.member.close({ leave: true })
    const after = await describeGroup(brokers, groupId)
    assert.deepEqual(
      after.members.map((m) => m.groupInstanceId),
      ['pod-s1'],
      'a static member asked to leave is removed at once'
    )
  })

  test('bad input fails fast with errors naming the group', async () => {
    const topic = uniqueName('bad')
    await createTopic(brokers, topic, 2)
    const attempts: [string, Partial<GroupMemberOptions>, RegExp][] = [
      ['STREAMLANE_GROUP_JOIN_FAILED', { sessionTimeoutMs: 500, heartbeatIntervalMs: 100 }, /session timeout/],
      [
        'STREAMLANE_GROUP_ASSIGNMENT_INVALID',
        {
          assign: () => {
            throw new Error('assignor bug')
          }
        },
        /the assignor threw in generation \d+: assignor bug/
      ],
      ['STREAMLANE_GROUP_ASSIGNMENT_INVALID', { topics: [uniqueName('missing')] }, /topic missing-\S+ does not exist/]
    ]
    for (const [code, override, message] of attempts) {
      const groupId = uniqueName('group')
      const m = new GroupMember({ brokers, groupId, topics: [topic], assign: stickyAssignor, ...override })
      const error: unknown = await m.join().then(
        () => undefined,
        (e: unknown) => e
      )
      assert.ok(error instanceof GroupError, String(error))
      assert.equal(error.code, code)
      assert.match(error.message, new RegExp(`^group ${groupId}: `))
      assert.match(error.message, message)
      assert.equal(m.state, 'failed')
      await m.close()
    }
  })
})
