import assert from 'node:assert/strict'
import { test } from 'node:test'
import { caughtUpStandbyReplicas } from '../../../src/runtime/instance-status.ts'

test('a standby copy held here that is behind leaves its task one caught-up copy short', () => {
  const caughtUp = { kind: 'standby' as const, lag: 10n }
  assert.equal(caughtUpStandbyReplicas(1, 1_000n, []), 1)
  assert.equal(caughtUpStandbyReplicas(1, 1_000n, [caughtUp]), 1)
  assert.equal(caughtUpStandbyReplicas(2, 1_000n, [caughtUp, { kind: 'standby', lag: 5_000n }]), 1)
  assert.equal(caughtUpStandbyReplicas(1, 1_000n, [{ kind: 'standby', lag: undefined }]), 0, 'not fetched yet')
  // Warm-ups report their own progress; they are not standby copies.
  assert.equal(caughtUpStandbyReplicas(1, 1_000n, [{ kind: 'warmup', lag: 50_000n }]), 1)
  assert.equal(caughtUpStandbyReplicas(0, 1_000n, []), 0)
})
