import assert from 'node:assert/strict'
import { test } from 'node:test'
import { finishedWithin } from '../../../src/runtime/finished-within.ts'

test('true once the work finished in time, false when the time ran out first', async () => {
  assert.equal(await finishedWithin(Promise.resolve('done'), 1_000), true)
  let release: () => void = () => {}
  const pending = new Promise<void>((resolve) => {
    release = resolve
  })
  assert.equal(await finishedWithin(pending, 1), false)
  release()
})

test('a rejection before the time is up is thrown; a later one is ignored', async () => {
  await assert.rejects(finishedWithin(Promise.reject(new Error('broken')), 1_000), /broken/)
  let fail: (error: Error) => void = () => {}
  const late = new Promise<void>((_, reject) => {
    fail = reject
  })
  assert.equal(await finishedWithin(late, 1), false)
  fail(new Error('too late'))
})
