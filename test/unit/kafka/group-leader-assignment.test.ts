import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GroupAssignmentError } from '../../../src/kafka/group/errors.ts'
import { computeLeaderAssignment, currentOwners } from '../../../src/kafka/group/leader-assignment.ts'
import type { Assignor, MemberAssignment, MemberSubscription } from '../../../src/kafka/group/types.ts'
import { topicPartitionKey } from '../../../src/topic-partition.ts'

const context = { groupId: 'g', generationId: 5, leaderId: 'a' }
const counts = new Map([['t', 4]])

function subscription(memberId: string, owned: number[] = [], generationId = 4): MemberSubscription {
  return {
    memberId,
    groupInstanceId: null,
    topics: ['t'],
    userData: Buffer.alloc(0),
    ownedPartitions: owned.length ? [{ topic: 't', partitions: owned }] : [],
    generationId: owned.length ? generationId : -1
  }
}

function fixed(shares: Record<string, number[]>): Assignor {
  return () =>
    new Map<string, MemberAssignment>(
      Object.entries(shares).map(([id, ps]) => [
        id,
        { partitions: [{ topic: 't', partitions: ps }], userData: Buffer.from(id) }
      ])
    )
}

test('each member gets its own share and its own userData', async () => {
  const { assignments, withheld } = await computeLeaderAssignment(
    [subscription('a'), subscription('b')],
    counts,
    fixed({ a: [0, 1], b: [2, 3] }),
    context
  )
  assert.deepEqual(withheld, [])
  assert.deepEqual(assignments.get('a'), {
    partitions: [{ topic: 't', partitions: [0, 1] }],
    userData: Buffer.from('a')
  })
  assert.deepEqual(assignments.get('b'), {
    partitions: [{ topic: 't', partitions: [2, 3] }],
    userData: Buffer.from('b')
  })
})

test('a partition still owned by another member is withheld from its new owner for one generation', async () => {
  // a owns everything; the assignor moves 2 and 3 to the new member b.
  const { assignments, withheld } = await computeLeaderAssignment(
    [subscription('a', [0, 1, 2, 3]), subscription('b')],
    counts,
    fixed({ a: [0, 1], b: [2, 3] }),
    context
  )
  assert.deepEqual(assignments.get('a')?.partitions, [{ topic: 't', partitions: [0, 1] }])
  assert.deepEqual(assignments.get('b')?.partitions, [])
  assert.deepEqual(assignments.get('b')?.userData, Buffer.from('b'))
  assert.deepEqual(
    withheld.map((w) => [w.topic, w.partition, w.memberId, w.ownerId]),
    [
      ['t', 2, 'b', 'a'],
      ['t', 3, 'b', 'a']
    ]
  )
})

test('the claim from the newest generation wins when two members claim a partition', () => {
  const owners = currentOwners([subscription('zombie', [0, 1], 3), subscription('current', [1], 4)])
  assert.equal(owners.get(topicPartitionKey('t', 0)), 'zombie')
  assert.equal(owners.get(topicPartitionKey('t', 1)), 'current')
})

test('members the assignor left out get an empty share', async () => {
  const { assignments } = await computeLeaderAssignment(
    [subscription('a'), subscription('b')],
    counts,
    fixed({ a: [0, 1, 2, 3] }),
    context
  )
  assert.deepEqual(assignments.get('b'), { partitions: [], userData: Buffer.alloc(0) })
})

test('invalid assignments are rejected with errors naming the group and the problem', async () => {
  const members = [subscription('a'), subscription('b')]
  const cases: [Assignor, RegExp][] = [
    [fixed({ a: [0, 1], b: [1] }), /group g: .*t-1 to both a and b/],
    [fixed({ a: [4] }), /t-4 to a, but t has 4 partitions/],
    [fixed({ c: [0] }), /c, which is not a member of generation 5/],
    [
      () => {
        throw new Error('boom')
      },
      /the assignor threw in generation 5: boom/
    ],
    [
      () => new Map([['a', { partitions: [{ topic: 'other', partitions: [0] }], userData: Buffer.alloc(0) }]]),
      /topic other .* no member subscribes/
    ]
  ]
  for (const [assign, message] of cases) {
    await assert.rejects(computeLeaderAssignment(members, counts, assign, context), (error: unknown) => {
      assert.ok(error instanceof GroupAssignmentError)
      assert.equal(error.code, 'STREAMLANE_GROUP_ASSIGNMENT_INVALID')
      assert.match(error.message, message)
      return true
    })
  }
})
