import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type KeyedRecord, KeyOrderedQueue, keyIdentity } from '../../../src/runtime/key-ordered-queue.ts'

/** A record of partition 0 of topic `in` (or `partition`), timestamp = offset unless given. */
function record(offset: number, key: string | null, options: { partition?: number; timestamp?: number } = {}) {
  return {
    topic: 'in',
    partition: options.partition ?? 0,
    offset: BigInt(offset),
    timestamp: options.timestamp ?? offset,
    key: key === null ? null : Buffer.from(key)
  } satisfies KeyedRecord
}

function queueOf(...records: KeyedRecord[]): KeyOrderedQueue<KeyedRecord> {
  const queue = new KeyOrderedQueue<KeyedRecord>()
  for (const r of records) queue.add(r)
  return queue
}

const offsetOf = (taken: { record: KeyedRecord } | undefined) =>
  taken === undefined ? undefined : Number(taken.record.offset)

test('records of different keys start together; a key waits for its previous record', () => {
  const queue = queueOf(record(0, 'a'), record(1, 'b'), record(2, 'a'), record(3, 'c'))
  const a0 = queue.take()
  const b1 = queue.take()
  const c3 = queue.take()
  assert.deepEqual([a0, b1, c3].map(offsetOf), [0, 1, 3], 'a@2 waits behind a@0; c@3 goes past it')
  assert.equal(queue.take(), undefined, 'nothing else may start')
  assert.equal(queue.inFlight, 3)
  assert.equal(queue.buffered, 1)
  queue.finish(a0!)
  assert.equal(offsetOf(queue.take()), 2, 'a@2 starts once a@0 finished')
  assert.equal(queue.buffered, 0)
})

test('a key never has two records in flight, and its records start in offset order', () => {
  const keys = ['a', 'b', 'a', 'a', 'c', 'b', 'a', 'c']
  const queue = queueOf(...keys.map((k, i) => record(i, k)))
  const startedByKey = new Map<string, number[]>()
  const inFlight = new Map<string, ReturnType<typeof queue.take>>()
  for (let round = 0; round < 20 && (queue.buffered > 0 || inFlight.size > 0); round++) {
    for (let taken = queue.take(); taken; taken = queue.take()) {
      const key = taken.record.key!.toString()
      assert.ok(!inFlight.has(key), `key ${key} already in flight`)
      inFlight.set(key, taken)
      startedByKey.set(key, [...(startedByKey.get(key) ?? []), Number(taken.record.offset)])
    }
    // Finish the key started last first: completion order must not matter.
    const last = [...inFlight.keys()].pop()!
    queue.finish(inFlight.get(last)!)
    inFlight.delete(last)
  }
  assert.deepEqual(Object.fromEntries(startedByKey), { a: [0, 2, 3, 6], b: [1, 5], c: [4, 7] })
})

test('the committable offset is the lowest unfinished record, never past one', () => {
  const queue = queueOf(record(0, 'a'), record(1, 'a'), record(2, 'b'), record(3, 'c'))
  assert.equal(queue.committable('in', 0), undefined, 'nothing started yet')
  const a0 = queue.take()!
  const b2 = queue.take()!
  const c3 = queue.take()!
  assert.equal(queue.committable('in', 0), undefined, 'nothing finished yet: nothing to commit')
  queue.finish(b2)
  queue.finish(c3)
  assert.equal(queue.committable('in', 0), 0n, 'b and c finished, a@0 still in flight')
  queue.finish(a0)
  assert.equal(queue.committable('in', 0), 1n, 'a@1 never started: a gap before the furthest started record')
  assert.equal(queue.hasHoles, true)
  const a1 = queue.take()!
  assert.equal(queue.committable('in', 0), 1n)
  queue.finish(a1)
  assert.equal(queue.committable('in', 0), 4n, 'everything finished')
  assert.equal(queue.hasHoles, false)
  assert.equal(queue.isDrained('in', 0), true)
})

test('holesOnly fills the gaps before the furthest started record and takes nothing new', () => {
  const queue = queueOf(record(0, 'a'), record(1, 'a'), record(2, 'b'), record(3, 'c'), record(4, 'd'))
  const a0 = queue.take()!
  queue.take() // b@2
  assert.equal(queue.take(true), undefined, 'a@1 waits for a@0; c@3 and d@4 are past b@2')
  queue.finish(a0)
  assert.equal(offsetOf(queue.take(true)), 1)
  assert.equal(queue.take(true), undefined)
  assert.equal(offsetOf(queue.take()), 3, 'without the hold, new records start again')
})

test('a failed record (never finished) holds the committable offset and its key', () => {
  const queue = queueOf(record(5, 'a'), record(6, 'a'), record(7, 'b'))
  queue.take() // a@5 fails: never finished
  queue.finish(queue.take()!) // b@7
  assert.equal(queue.committable('in', 0), 5n)
  assert.equal(queue.take(), undefined, 'a@6 stays behind a@5')
})

test('finishing a record twice, or one the queue never started, changes nothing', () => {
  const queue = queueOf(record(0, 'a'), record(1, 'a'))
  const a0 = queue.take()!
  queue.finish(a0)
  queue.finish(a0)
  queue.finish({ record: record(9, 'z'), key: keyIdentity(Buffer.from('z')) })
  assert.equal(queue.inFlight, 0)
  const a1 = queue.take()!
  assert.equal(queue.inFlight, 1)
  queue.finish(a0)
  assert.equal(queue.inFlight, 1, 'a@0 is not in flight any more; a@1 still is')
  assert.equal(queue.take(), undefined)
  queue.finish(a1)
  assert.equal(queue.committable('in', 0), 2n)
})

test('null keys are one key: records without a key stay in order among themselves', () => {
  const queue = queueOf(record(0, null), record(1, null), record(2, 'x'))
  const n0 = queue.take()!
  assert.equal(offsetOf(queue.take()), 2)
  assert.equal(queue.take(), undefined)
  queue.finish(n0)
  assert.equal(offsetOf(queue.take()), 1)
  assert.notEqual(keyIdentity(null), keyIdentity(Buffer.from('n')))
  assert.notEqual(keyIdentity(Buffer.from([0xff])), keyIdentity(Buffer.from([0xfe])))
})

test('across partitions: the startable record with the smallest timestamp, and a key shared by partitions stays ordered', () => {
  const queue = queueOf(
    record(0, 'a', { partition: 0, timestamp: 50 }),
    record(0, 'b', { partition: 1, timestamp: 10 }),
    record(1, 'a', { partition: 1, timestamp: 20 })
  )
  assert.deepEqual(
    [queue.take(), queue.take()].map((t) => [t!.record.partition, Number(t!.record.offset)]),
    [
      [1, 0],
      [1, 1]
    ],
    'b (ts 10), then a of partition 1 (ts 20) before a of partition 0 (ts 50)'
  )
  assert.equal(queue.take(), undefined, 'a of partition 0 waits: its key is in flight in partition 1')
  assert.equal(queue.committable('in', 1), undefined, 'partition 1: nothing finished')
})

test('per partition counts for back-pressure, and the drained check', () => {
  const queue = queueOf(record(0, 'a'), record(1, 'a'), record(0, 'b', { partition: 1 }))
  assert.deepEqual(queue.bufferedCounts(), [
    { topic: 'in', partition: 0, count: 2 },
    { topic: 'in', partition: 1, count: 1 }
  ])
  const taken = queue.take()!
  assert.equal(queue.isDrained('in', 1), false)
  assert.equal(queue.isDrained('in', 7), true, 'a partition that never had records')
  queue.finish(taken)
  assert.equal(queue.buffered, 2)
})

test('a long run of one key does not block others behind it, and compaction keeps order', () => {
  const queue = new KeyOrderedQueue<KeyedRecord>()
  const hot = 3000
  for (let i = 0; i < hot; i++) queue.add(record(i, 'hot'))
  queue.add(record(hot, 'cold'))
  const first = queue.take()!
  assert.equal(offsetOf(queue.take()), hot, 'the cold key starts past 2,999 blocked records')
  queue.finish(first)
  let last = 0
  for (let i = 1; i < hot; i++) {
    const next = queue.take()!
    assert.equal(Number(next.record.offset), last + 1)
    last = Number(next.record.offset)
    queue.finish(next)
  }
  assert.equal(queue.buffered, 0)
  assert.equal(queue.committable('in', 0), BigInt(hot), 'the cold record is still in flight')
})
