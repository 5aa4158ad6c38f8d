import assert from 'node:assert/strict'
import { test } from 'node:test'
import { locksDue, renewalIntervalMs } from '../../../src/runtime/share-lock-renewal.ts'

test('a lock is due for renewal once a third of it has run since it started or was last renewed', () => {
  const held = [
    { id: 'fresh', lockedAt: 7_000 },
    { id: 'half', lockedAt: 5_000 },
    { id: 'old', lockedAt: 1_000 }
  ]
  assert.deepEqual(
    locksDue(held, 10_000, 10_000).map((h) => h.id),
    ['half', 'old']
  )
  assert.deepEqual(locksDue(held, 0, 10_000), [], 'lock not known yet: nothing to renew')
})

test('renewal ticks every sixth of a lock, within 100 ms .. 5 s', () => {
  assert.equal(renewalIntervalMs(3_000), 500)
  assert.equal(renewalIntervalMs(100), 100)
  assert.equal(renewalIntervalMs(0), 100, 'lock not known yet: look again soon')
  assert.equal(renewalIntervalMs(60_000), 5_000)
})
