/**
 * The partition reader's bookkeeping: a partition assigned again starts afresh, as Streamlane assigns the input
 * partitions of a task that comes back (after a fencing or a loss) at its committed offset.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ReaderState } from '../../../src/kafka/reader-state.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'

function record(offset: bigint): ConsumedRecord {
  return { topic: 't', partition: 0, offset, timestamp: 0, key: null, value: null, headers: [] }
}

test('a partition assigned again is no longer paused and reads from the new offset', () => {
  const state = new ReaderState()
  state.add('t', 0, 10n)
  const partition = state.get('t', 0)!
  partition.fill([record(10n), record(11n)], 12n)
  // Paused by back-pressure while its task held records it could not process.
  partition.paused = true
  state.add('t', 0, 4n)
  const again = state.get('t', 0)!
  assert.equal(again.paused, false, 'nobody would resume a pause left over from before')
  assert.equal(again.position, 4n)
  assert.equal(again.buffered, 0, 'records fetched from the old position are dropped')
  assert.equal(again.fetchable(Date.now()), true)
})

test('a seek keeps the pause (only assigning again starts afresh)', () => {
  const state = new ReaderState()
  state.add('t', 0, 10n)
  const partition = state.get('t', 0)!
  partition.paused = true
  partition.seek(3n)
  assert.equal(partition.paused, true)
  assert.equal(partition.position, 3n)
})
