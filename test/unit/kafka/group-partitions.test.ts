import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  countPartitions,
  diffAssignment,
  formatPartitions,
  intersectPartitions,
  normalizePartitions,
  subtractPartitions
} from '../../../src/kafka/group/partitions.ts'

test('normalizePartitions merges topics, sorts, dedupes and drops empty entries', () => {
  assert.deepEqual(
    normalizePartitions([
      { topic: 'b', partitions: [3, 1] },
      { topic: 'a', partitions: [] },
      { topic: 'b', partitions: [1, 0] },
      { topic: 'a', partitions: [2] }
    ]),
    [
      { topic: 'a', partitions: [2] },
      { topic: 'b', partitions: [0, 1, 3] }
    ]
  )
})

test('diffAssignment: a member losing two partitions and gaining one revokes exactly the two', () => {
  const previous = [
    { topic: 'orders', partitions: [0, 1, 2, 3] },
    { topic: 'payments', partitions: [0] }
  ]
  const next = [
    { topic: 'orders', partitions: [0, 3] },
    { topic: 'payments', partitions: [0, 1] }
  ]
  assert.deepEqual(diffAssignment(previous, next), {
    added: [{ topic: 'payments', partitions: [1] }],
    revoked: [{ topic: 'orders', partitions: [1, 2] }],
    retained: [
      { topic: 'orders', partitions: [0, 3] },
      { topic: 'payments', partitions: [0] }
    ]
  })
})

test('diffAssignment of a first assignment adds everything and of an unchanged one retains everything', () => {
  const owned = [{ topic: 't', partitions: [0, 1] }]
  assert.deepEqual(diffAssignment([], owned), { added: owned, revoked: [], retained: [] })
  assert.deepEqual(diffAssignment(owned, owned), { added: [], revoked: [], retained: owned })
  assert.deepEqual(diffAssignment(owned, []), { added: [], revoked: owned, retained: [] })
})

test('set operations and formatting', () => {
  const a = [{ topic: 't', partitions: [0, 1, 2] }]
  const b = [
    { topic: 't', partitions: [2, 3] },
    { topic: 'u', partitions: [0] }
  ]
  assert.deepEqual(subtractPartitions(a, b), [{ topic: 't', partitions: [0, 1] }])
  assert.deepEqual(intersectPartitions(a, b), [{ topic: 't', partitions: [2] }])
  assert.equal(countPartitions([...a, ...b]), 5)
  assert.equal(formatPartitions(b), 't-2, t-3, u-0')
  assert.equal(formatPartitions([]), '(none)')
})
