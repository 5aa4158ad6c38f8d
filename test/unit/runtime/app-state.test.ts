import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AppLifecycle, type AppState } from '../../../src/runtime/app-state.ts'

test('listeners see every transition in order', () => {
  const lifecycle = new AppLifecycle()
  const seen: [AppState, AppState][] = []
  lifecycle.onChange((next, previous) => seen.push([previous, next]))
  lifecycle.transition('REBALANCING')
  lifecycle.transition('RUNNING')
  lifecycle.transition('PENDING_SHUTDOWN')
  lifecycle.transition('NOT_RUNNING')
  assert.deepEqual(seen, [
    ['CREATED', 'REBALANCING'],
    ['REBALANCING', 'RUNNING'],
    ['RUNNING', 'PENDING_SHUTDOWN'],
    ['PENDING_SHUTDOWN', 'NOT_RUNNING']
  ])
})

test('an illegal transition is refused and names both states', () => {
  const lifecycle = new AppLifecycle()
  assert.throws(() => lifecycle.transition('RUNNING'), /from CREATED to RUNNING/)
  lifecycle.transition('PENDING_SHUTDOWN')
  lifecycle.transition('NOT_RUNNING')
  assert.throws(() => lifecycle.transition('REBALANCING'), /from NOT_RUNNING to REBALANCING/)
})
