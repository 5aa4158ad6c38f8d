import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  acknowledgeTypeCode,
  deliveryCountOf,
  gapOffsets,
  toAcknowledgementBatches
} from '../../../src/kafka/share/acknowledgements.ts'
import { ShareSession } from '../../../src/kafka/share/share-session.ts'

test('consecutive offsets with one type become one batch with a single type', () => {
  const acks = new Map([
    [12n, 1],
    [10n, 1],
    [11n, 1]
  ])
  assert.deepEqual(toAcknowledgementBatches(acks), [{ firstOffset: 10n, lastOffset: 12n, acknowledgeTypes: [1] }])
})

test('mixed types in a run are listed per offset; a hole starts a new batch', () => {
  const acks = new Map([
    [1n, acknowledgeTypeCode('accept')],
    [2n, acknowledgeTypeCode('release')],
    [3n, acknowledgeTypeCode('reject')],
    [7n, acknowledgeTypeCode('gap')]
  ])
  assert.deepEqual(toAcknowledgementBatches(acks), [
    { firstOffset: 1n, lastOffset: 3n, acknowledgeTypes: [1, 2, 3] },
    { firstOffset: 7n, lastOffset: 7n, acknowledgeTypes: [0] }
  ])
})

test('an unknown acknowledge type is refused by name', () => {
  assert.throws(() => acknowledgeTypeCode('commit' as never), /accept, release or reject, got commit/)
})

test('gaps are the acquired offsets without a record; delivery counts come from the acquired ranges', () => {
  const acquired = [
    { firstOffset: 5n, lastOffset: 8n, deliveryCount: 1 },
    { firstOffset: 9n, lastOffset: 9n, deliveryCount: 3 }
  ]
  assert.deepEqual(gapOffsets(acquired, new Set([5n, 6n, 8n, 9n])), [7n])
  assert.equal(deliveryCountOf(acquired, 6n), 1)
  assert.equal(deliveryCountOf(acquired, 9n), 3)
  assert.equal(deliveryCountOf(acquired, 10n), undefined)
})

test('a share session counts epochs from 1 after opening, wraps past Int32 max, and restarts at 0 when reset', () => {
  const session = new ShareSession()
  assert.equal(session.open, false)
  session.advance()
  assert.equal(session.epoch, 1)
  session.epoch = 0x7fffffff
  session.advance()
  assert.equal(session.epoch, 1)
  session.partitions.add('t:0')
  session.reset()
  assert.equal(session.epoch, 0)
  assert.equal(session.partitions.size, 0)
})
