import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription
} from '../../../src/kafka/group/consumer-protocol.ts'

test('a subscription round-trips topics, userData, owned partitions and their generation', () => {
  const userData = Buffer.from([0, 1, 2, 250, 255])
  const encoded = encodeSubscription({
    topics: ['payments', 'orders'],
    userData,
    ownedPartitions: [{ topic: 'orders', partitions: [3, 1] }],
    generationId: 7
  })
  // Consumer protocol Subscription v3: version first, as Kafka's ConsumerProtocol reads it.
  assert.equal(encoded.readInt16BE(0), 3)
  assert.deepEqual(decodeSubscription('m-1', 'pod-1', encoded), {
    memberId: 'm-1',
    groupInstanceId: 'pod-1',
    topics: ['orders', 'payments'],
    userData,
    ownedPartitions: [{ topic: 'orders', partitions: [1, 3] }],
    generationId: 7
  })
})

test('an assignment round-trips partitions and the member-specific userData', () => {
  const assignment = {
    partitions: [
      { topic: 'b', partitions: [2, 0] },
      { topic: 'a', partitions: [1] }
    ],
    userData: Buffer.from('for member 1')
  }
  assert.deepEqual(decodeAssignment(encodeAssignment(assignment)), {
    partitions: [
      { topic: 'a', partitions: [1] },
      { topic: 'b', partitions: [0, 2] }
    ],
    userData: Buffer.from('for member 1')
  })
})

test('an empty assignment buffer (a member the leader left out) decodes to nothing', () => {
  assert.deepEqual(decodeAssignment(Buffer.alloc(0)), { partitions: [], userData: Buffer.alloc(0) })
})
