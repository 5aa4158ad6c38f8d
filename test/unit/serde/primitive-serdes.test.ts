import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DeserializationError, Serdes, SerializationError } from '../../../src/serde/index.ts'

const roundTrip = <T>(
  serde: { serialize(t: string, v: T | null): Buffer | null; deserialize(t: string, d: Buffer | null): T | null },
  value: T
): T | null => serde.deserialize('t', serde.serialize('t', value))

describe('null passes through every built-in serde', () => {
  for (const [name, serde] of Object.entries({
    bytes: Serdes.bytes(),
    string: Serdes.string(),
    json: Serdes.json(),
    int32: Serdes.int32(),
    long: Serdes.long(),
    double: Serdes.double()
  })) {
    test(name, () => {
      assert.equal((serde as { serialize(t: string, v: null): Buffer | null }).serialize('t', null), null)
      assert.equal(serde.deserialize('t', null), null)
    })
  }
})

describe('string serde', () => {
  test('round-trips UTF-8, including non-ASCII and the empty string', () => {
    const serde = Serdes.string()
    for (const text of ['', 'hello', 'grüße 🌊', '中文']) assert.equal(roundTrip(serde, text), text)
    assert.deepEqual(serde.serialize('t', 'é'), Buffer.from([0xc3, 0xa9]))
  })

  test('refuses non-strings', () => {
    assert.throws(() => Serdes.string().serialize('orders', 42 as never), {
      name: 'SerializationError',
      message: 'cannot serialize a value for topic orders: expected a string, got a number'
    })
  })
})

describe('bytes serde', () => {
  test('returns the same bytes and refuses non-Buffers', () => {
    const data = Buffer.from([1, 2, 3])
    assert.equal(Serdes.bytes().serialize('t', data), data)
    assert.equal(Serdes.bytes().deserialize('t', data), data)
    assert.throws(() => Serdes.bytes().serialize('t', 'text' as never), SerializationError)
  })
})

describe('int32 serde', () => {
  test('is 4 bytes big-endian and round-trips the extremes', () => {
    const serde = Serdes.int32()
    assert.deepEqual(serde.serialize('t', 1), Buffer.from([0, 0, 0, 1]))
    assert.deepEqual(serde.serialize('t', -1), Buffer.from([0xff, 0xff, 0xff, 0xff]))
    for (const n of [0, 1, -1, 2 ** 31 - 1, -(2 ** 31)]) assert.equal(roundTrip(serde, n), n)
  })

  test('refuses values that do not fit and data of the wrong size', () => {
    const serde = Serdes.int32()
    assert.throws(() => serde.serialize('t', 2 ** 31), SerializationError)
    assert.throws(() => serde.serialize('t', 1.5), SerializationError)
    assert.throws(() => serde.deserialize('counts', Buffer.from([1, 2])), {
      name: 'DeserializationError',
      message: 'cannot deserialize data of a record from topic counts: int32 data must be exactly 4 bytes, got 2'
    })
  })
})

describe('long serde', () => {
  test('is 8 bytes big-endian like Kafka LongSerializer', () => {
    const serde = Serdes.long()
    assert.deepEqual(serde.serialize('t', 1n), Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]))
    assert.deepEqual(serde.serialize('t', -1n), Buffer.alloc(8, 0xff))
    assert.deepEqual(
      serde.serialize('t', 2n ** 63n - 1n),
      Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    )
    assert.deepEqual(serde.serialize('t', -(2n ** 63n)), Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0]))
  })

  test('round-trips values a double cannot hold exactly', () => {
    const serde = Serdes.long()
    for (const n of [0n, -1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)]) assert.equal(roundTrip(serde, n), n)
  })

  test('refuses out-of-range bigints, numbers, and data that is not 8 bytes', () => {
    const serde = Serdes.long()
    assert.throws(
      () => serde.serialize('t', 2n ** 63n),
      /expected a bigint in \[-2\^63, 2\^63-1\], got 9223372036854775808n/
    )
    assert.throws(() => serde.serialize('t', 5 as never), /got a number/)
    assert.throws(() => serde.deserialize('t', Buffer.alloc(4)), DeserializationError)
  })
})

describe('double serde', () => {
  test('is IEEE 754 big-endian like Kafka DoubleSerializer', () => {
    assert.equal(Serdes.double().serialize('t', 0.1)!.toString('hex'), '3fb999999999999a')
  })

  test('round-trips NaN, infinities, -0 and the extremes', () => {
    const serde = Serdes.double()
    for (const n of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      0,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      -1.5
    ]) {
      assert.ok(Object.is(roundTrip(serde, n), n), `round trip of ${n}`)
    }
  })

  test('refuses data that is not 8 bytes', () => {
    assert.throws(() => Serdes.double().deserialize('t', Buffer.alloc(7)), /double data must be exactly 8 bytes, got 7/)
  })
})
