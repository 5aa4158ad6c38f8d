import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Serdes } from '../../../src/serde/index.ts'

describe('windowed serdes', () => {
  test('time-windowed keys are the inner key bytes and the window start, as Kafka TimeWindowedSerde writes them', () => {
    const serde = Serdes.windowed(Serdes.string(), 60_000)
    const bytes = serde.serialize('t', { key: 'ann', window: { start: 120_000, end: 180_000 } })!
    assert.deepEqual(bytes, Buffer.concat([Buffer.from('ann'), Buffer.from('000000000001d4c0', 'hex')]))
    assert.deepEqual(serde.deserialize('t', bytes), { key: 'ann', window: { start: 120_000, end: 180_000 } })
    assert.equal(serde.serialize('t', null), null)
    assert.throws(() => serde.deserialize('t', Buffer.from('abc')), /needs at least 8 bytes/)
    assert.throws(() => serde.serialize('t', { key: 'a', window: { start: -1, end: 0 } }), /window start/)
    assert.throws(() => Serdes.windowed(Serdes.string(), 0), /window size/)
  })

  test('session-windowed keys are the inner key bytes, the end, then the start (Kafka SessionWindowedSerde)', () => {
    const serde = Serdes.sessionWindowed(Serdes.string())
    const bytes = serde.serialize('t', { key: 'k', window: { start: 1, end: 2 } })!
    assert.deepEqual(bytes, Buffer.from('6b' + '0000000000000002' + '0000000000000001', 'hex'))
    assert.deepEqual(serde.deserialize('t', bytes), { key: 'k', window: { start: 1, end: 2 } })
    assert.throws(() => serde.deserialize('t', Buffer.alloc(15)), /needs at least 16 bytes/)
    assert.throws(
      () => serde.serialize('t', { key: null as unknown as string, window: { start: 1, end: 2 } }),
      /cannot be null/
    )
  })
})
