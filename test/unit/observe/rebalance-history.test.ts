import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RebalanceHistory, rebalanceCause } from '../../../src/observe/rebalance-history.ts'

test('the member reasons map to a few causes, anything new to other', () => {
  assert.equal(rebalanceCause('initial join'), 'join')
  assert.equal(rebalanceCause('the coordinator started a rebalance'), 'group')
  assert.equal(rebalanceCause('revoked in-0, in-3'), 'follow-up')
  assert.equal(rebalanceCause('the offset commit was refused'), 'commit-refused')
  assert.equal(rebalanceCause('the producer was fenced'), 'fenced')
  assert.equal(rebalanceCause('session expired'), 'other')
})

test('history keeps the last 20 with their durations; one superseded keeps none', () => {
  const history = new RebalanceHistory()
  history.started('initial join', 0)
  history.started('the coordinator started a rebalance', 100)
  history.completed(3, 2, 400)
  const [first, second] = history.recent()
  assert.equal(first?.durationMs, undefined)
  assert.deepEqual(second, {
    startedAt: 100,
    cause: 'group',
    reason: 'the coordinator started a rebalance',
    durationMs: 300,
    generation: 3,
    tasks: 2
  })
  for (let i = 0; i < 30; i++) history.started('initial join', 1_000 + i)
  assert.equal(history.recent().length, 20)
  assert.equal(history.total, 32)
  assert.equal(history.countsByCause().join, 31)
})
