import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import { DeserializationError, Serdes, SerializationError } from '../../../src/serde/index.ts'

describe('json serde', () => {
  test('round-trips objects as UTF-8 JSON', () => {
    const serde = Serdes.json<{ id: number; tags: string[] }>()
    const bytes = serde.serialize('t', { id: 1, tags: ['a'] })
    assert.equal(bytes!.toString('utf8'), '{"id":1,"tags":["a"]}')
    assert.deepEqual(serde.deserialize('t', bytes), { id: 1, tags: ['a'] })
  })

  test('invalid JSON is a DeserializationError naming the topic', () => {
    assert.throws(() => Serdes.json().deserialize('orders', Buffer.from('{nope')), DeserializationError)
    assert.throws(
      () => Serdes.json().deserialize('orders', Buffer.from('{nope')),
      /cannot deserialize data of a record from topic orders: invalid JSON/
    )
  })

  test('values JSON cannot represent are a SerializationError', () => {
    assert.throws(() => Serdes.json().serialize('t', 1n), SerializationError)
    assert.throws(() => Serdes.json().serialize('t', () => 1), /is not representable as JSON/)
  })
})

describe('jsonSchema serde', () => {
  const Order = z.object({
    id: z.string(),
    amount: z.number().positive(),
    items: z.array(z.object({ sku: z.string() }))
  })
  const serde = Serdes.jsonSchema(Order)

  test('round-trips valid values, typed by the schema', () => {
    const order = { id: 'o-1', amount: 12.5, items: [{ sku: 'a' }] }
    const read = serde.deserialize('orders', serde.serialize('orders', order))
    assert.deepEqual(read, order)
    const amount: number | undefined = read?.amount
    assert.equal(amount, 12.5)
  })

  test('a record that does not match fails with each issue and its path', () => {
    const bad = Buffer.from(JSON.stringify({ id: 7, amount: -1, items: [{}] }))
    let caught: unknown
    try {
      serde.deserialize('orders', bad)
    } catch (error) {
      caught = error
    }
    assert.ok(caught instanceof DeserializationError)
    assert.equal(caught.code, 'STREAMLANE_DESERIALIZATION_FAILED')
    assert.match(caught.message, /^cannot deserialize data of a record from topic orders: does not match the schema: /)
    assert.match(caught.message, /id: /)
    assert.match(caught.message, /amount: /)
    assert.match(caught.message, /items\.0\.sku: /)
    const located = caught.at({ partition: 3, offset: 42, part: 'value' })
    assert.match(
      located.message,
      /^cannot deserialize the value of the record at topic orders partition 3 offset 42: does not match/
    )
    assert.equal(located.partition, 3)
    assert.equal(located.offset, 42)
  })

  test('values are validated before writing unless turned off', () => {
    assert.throws(() => serde.serialize('orders', { id: 'x', amount: 0, items: [] }), {
      name: 'SerializationError',
      message: /cannot serialize a value for topic orders: does not match the schema: amount: /
    })
    const lenient = Serdes.jsonSchema(Order, { validateOnSerialize: false })
    assert.ok(lenient.serialize('orders', { id: 'x', amount: 0, items: [] }))
  })

  test('invalid JSON fails before the schema', () => {
    assert.throws(() => serde.deserialize('orders', Buffer.from('not json')), /invalid JSON/)
  })
})
