import assert from 'node:assert/strict'
import { test } from 'node:test'
import { answerEncoding, parseKey } from '../../../src/query/query-json.ts'
import { Serdes } from '../../../src/serde/index.ts'

const store = { topic: 'words', serdes: { key: Serdes.string(), value: Serdes.long() as never } }

test('keyFormat=base64 reads the key bytes with the store key serde', () => {
  const parsed = parseKey(Buffer.from('kafka').toString('base64'), 'base64', store)
  assert.equal(parsed.key, 'kafka')
  assert.equal(parsed.serde, store.serdes.key)
  // URL-safe base64 too (no "+" or "/" to escape in a path).
  assert.equal(parseKey(Buffer.from('??>').toString('base64url'), 'base64', store).key, '??>')
})

test('format=base64 answers the bytes of the store serdes; json leaves values as they are', () => {
  const raw = answerEncoding('base64', store)
  assert.equal(raw.key('kafka'), Buffer.from('kafka').toString('base64'))
  const value = Buffer.from(raw.value(42n) as string, 'base64')
  assert.equal(value.readBigInt64BE(), 42n)
  assert.equal(answerEncoding(undefined, store).value(42n), 42n)
})

test('raw bytes of a store without serdes, or an unknown format, are a 400 naming the parameter', () => {
  const bare = { topic: 'words' }
  assert.throws(
    () => answerEncoding('base64', bare),
    (e: Error & { status?: number }) => e.status === 400 && /format=base64/.test(e.message)
  )
  assert.throws(
    () => parseKey('a2Fma2E=', 'base64', bare),
    (e: Error & { status?: number }) => e.status === 400 && /keyFormat=base64/.test(e.message)
  )
  assert.throws(
    () => answerEncoding('avro', store),
    (e: Error & { status?: number }) => e.status === 400
  )
})
