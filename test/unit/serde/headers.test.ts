import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Headers } from '../../../src/serde/index.ts'

test('headers are immutable: every change returns new headers', () => {
  const a = Headers.from({ trace: 'abc' })
  const b = a.with('trace', 'def')
  assert.equal(a.getString('trace'), 'abc')
  assert.equal(b.getString('trace'), 'def')
  assert.deepEqual(b.getAll('trace').map(String), ['abc', 'def'])
  const c = b.set('trace', 'x')
  assert.deepEqual(c.getAll('trace').map(String), ['x'])
  assert.equal(c.without('trace').has('trace'), false)
  assert.equal(b.size, 2)
})

test('headers come from client entries with Buffer keys and null values', () => {
  const headers = Headers.from([
    [Buffer.from('k'), Buffer.from('v')],
    ['empty', null]
  ])
  assert.equal(headers.getString('k'), 'v')
  assert.equal(headers.get('empty'), null)
  assert.equal(headers.get('absent'), undefined)
  assert.deepEqual(
    [...headers].map(([key]) => key),
    ['k', 'empty']
  )
  assert.equal(Headers.from({}), Headers.empty)
})
