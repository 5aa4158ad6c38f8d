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

test('ready only in RUNNING; live until the app stopped or failed', () => {
  const lifecycle = new AppLifecycle()
  const seen: [AppState, boolean, boolean][] = [[lifecycle.state, lifecycle.live, lifecycle.ready]]
  lifecycle.onChange((next) => seen.push([next, lifecycle.live, lifecycle.ready]))
  for (const next of ['REBALANCING', 'RUNNING', 'REBALANCING', 'ERROR', 'PENDING_SHUTDOWN', 'NOT_RUNNING'] as const)
    lifecycle.transition(next)
  assert.deepEqual(seen, [
    ['CREATED', true, false],
    ['REBALANCING', true, false],
    ['RUNNING', true, true],
    ['REBALANCING', true, false],
    ['ERROR', false, false],
    ['PENDING_SHUTDOWN', true, false],
    ['NOT_RUNNING', false, false]
  ])
})
