import assert from 'node:assert/strict'
import { test } from 'node:test'
import { QueryError } from '../../../src/query/errors.ts'
import {
  ConcurrencyGate,
  MAX_PAGE,
  pageLimit,
  RateLimiter,
  SCAN_CHUNK,
  smallest
} from '../../../src/query/query-limits.ts'

test('smallest keeps the limit smallest accepted items in order and says whether more were there', async () => {
  const items = Array.from({ length: 5 * SCAN_CHUNK + 7 }, (_, i) => (i * 7919) % 10_007)
  const expected = items.filter((n) => n % 2 === 0).sort((a, b) => a - b)
  const page = await smallest(
    items,
    50,
    (a, b) => a - b,
    (n) => n % 2 === 0
  )
  assert.deepEqual(page.items, expected.slice(0, 50))
  assert.equal(page.more, true)
  const all = await smallest([3, 1, 2], 3, (a, b) => a - b)
  assert.deepEqual(all, { items: [1, 2, 3], more: false })
})

test('a long scan gives the event loop turns: a timer fires before it ends', async () => {
  let fired = false
  setImmediate(() => {
    fired = true
  })
  let firedDuringScan = false
  function* items() {
    for (let i = 0; i < 3 * SCAN_CHUNK; i++) {
      if (fired) firedDuringScan = true
      yield i
    }
  }
  await smallest(items(), 10, (a, b) => a - b)
  assert.equal(firedDuringScan, true)
})

test('pageLimit: default, cut to the maximum, refused below 1', () => {
  assert.equal(pageLimit(undefined), 100)
  assert.equal(pageLimit('5000'), MAX_PAGE)
  assert.throws(
    () => pageLimit('0'),
    (e) => e instanceof QueryError && e.code === 'STREAMLANE_QUERY_REQUEST_INVALID'
  )
})

test('the gate refuses past its maximum with a retriable 429 and frees the slot when work ends', async () => {
  const gate = new ConcurrencyGate(2)
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  const first = gate.run(() => held)
  const second = gate.run(() => held)
  await assert.rejects(
    gate.run(async () => 'third'),
    (e) => e instanceof QueryError && e.code === 'STREAMLANE_QUERY_BUSY' && e.status === 429 && e.retriable
  )
  release()
  await Promise.all([first, second])
  assert.equal(gate.inProgress, 0)
  assert.equal(await gate.run(async () => 'after'), 'after')
})

test("the rate limiter takes a second's worth at once, refuses past it with a retriable 429, refills with time", () => {
  let now = 1_000
  const limiter = new RateLimiter(3, () => now)
  for (let i = 0; i < 3; i++) limiter.take()
  assert.throws(
    () => limiter.take(),
    (e: unknown) =>
      e instanceof QueryError &&
      e.code === 'STREAMLANE_QUERY_BUSY' &&
      e.status === 429 &&
      e.retriable &&
      /queryMaxRate/.test(e.message)
  )
  now += 340 // a third of a second: one more token
  limiter.take()
  assert.throws(() => limiter.take(), QueryError)
  now += 10_000 // a long pause fills the bucket, never past one second's worth
  for (let i = 0; i < 3; i++) limiter.take()
  assert.throws(() => limiter.take(), QueryError)
})
