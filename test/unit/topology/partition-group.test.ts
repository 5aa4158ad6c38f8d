import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { PartitionGroup } from '../../../src/topology/index.ts'

interface Rec {
  readonly id: string
  readonly timestamp: number
}

const identity = (raw: Rec): Rec => raw

describe('PartitionGroup', () => {
  test('drains two partitions in timestamp order, whatever order they were fetched in', () => {
    const group = new PartitionGroup<Rec, Rec>(
      [
        { topic: 'a', partition: 0 },
        { topic: 'b', partition: 0 }
      ],
      identity
    )
    group.add('a', 0, [
      { id: 'a1', timestamp: 10 },
      { id: 'a2', timestamp: 30 },
      { id: 'a3', timestamp: 50 }
    ])
    group.add('b', 0, [
      { id: 'b1', timestamp: 20 },
      { id: 'b2', timestamp: 40 }
    ])
    const order: string[] = []
    for (let next = group.next(); next; next = group.next()) order.push(next.record.id)
    assert.deepEqual(order, ['a1', 'b1', 'a2', 'b2', 'a3'])
    assert.equal(group.streamTimeMs, 50)
  })

  test('stream time never goes back, even for an out-of-order record', () => {
    const group = new PartitionGroup<Rec, Rec>([{ topic: 'a', partition: 0 }], identity)
    group.add('a', 0, [
      { id: 'x', timestamp: 100 },
      { id: 'late', timestamp: 40 }
    ])
    group.next()
    assert.equal(group.streamTimeMs, 100)
    assert.equal(group.next()!.record.id, 'late')
    assert.equal(group.streamTimeMs, 100)
    assert.equal(group.partitionTimeMs('a', 0), 100)
  })

  test('reports buffered counts per partition for back-pressure', () => {
    const group = new PartitionGroup<Rec, Rec>(
      [
        { topic: 'a', partition: 3 },
        { topic: 'b', partition: 3 }
      ],
      identity
    )
    group.add('a', 3, [
      { id: '1', timestamp: 1 },
      { id: '2', timestamp: 2 }
    ])
    assert.deepEqual(group.bufferedCounts(), [
      { topic: 'a', partition: 3, count: 2 },
      { topic: 'b', partition: 3, count: 0 }
    ])
    group.next()
    assert.equal(group.bufferedCount('a', 3), 1)
    assert.equal(group.totalBuffered, 1)
    assert.throws(() => group.add('a', 4, []), RangeError)
  })

  test('records the decoder skips are passed over', () => {
    const skipped: string[] = []
    const group = new PartitionGroup<Rec, Rec>([{ topic: 'a', partition: 0 }], (raw) => {
      if (raw.id.startsWith('bad')) {
        skipped.push(raw.id)
        return undefined
      }
      return raw
    })
    group.add('a', 0, [
      { id: 'bad1', timestamp: 1 },
      { id: 'good', timestamp: 2 },
      { id: 'bad2', timestamp: 3 }
    ])
    assert.equal(group.next()!.record.id, 'good')
    assert.deepEqual(skipped, ['bad1'], 'records behind the head are decoded only when they reach it')
    assert.equal(group.next(), undefined)
    assert.deepEqual(skipped, ['bad1', 'bad2'])
  })

  test('with maxTaskIdleMs, waits for empty partitions before going ahead', () => {
    const group = new PartitionGroup<Rec, Rec>(
      [
        { topic: 'a', partition: 0 },
        { topic: 'b', partition: 0 }
      ],
      identity,
      { maxTaskIdleMs: 100 }
    )
    assert.equal(group.readyToProcess(0), false)
    group.add('a', 0, [{ id: 'a1', timestamp: 5 }])
    assert.equal(group.readyToProcess(1000), false)
    assert.equal(group.readyToProcess(1099), false)
    assert.equal(group.readyToProcess(1100), true)
    group.add('b', 0, [{ id: 'b1', timestamp: 1 }])
    assert.equal(group.readyToProcess(1100), true)
  })
})
