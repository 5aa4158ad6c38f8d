import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MembershipGuard } from '../../../src/runtime/membership-guard.ts'

function guard(options: { sessionTimeoutMs?: number; heartbeatIntervalMs?: number } = {}) {
  const clock = { now: 1_000_000, generation: true }
  const changes: (string | undefined)[] = []
  const g = new MembershipGuard({
    sessionTimeoutMs: options.sessionTimeoutMs ?? 6_000,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1_000,
    hasGeneration: () => clock.generation,
    now: () => clock.now,
    onChange: (doubt) => changes.push(doubt)
  })
  return { g, clock, changes }
}

test('heartbeats acknowledged in time keep ownership; silence past the session timeout minus a beat is doubt', () => {
  const { g, clock } = guard()
  assert.equal(g.doubt(), undefined)
  clock.now += 4_900
  assert.equal(g.doubt(), undefined)
  clock.now += 200
  assert.match(g.doubt() ?? '', /no heartbeat acknowledged for 5100 ms \(session timeout 6000 ms\)/)
  // A heartbeat sent before the pause and answered after it counts from when it was sent.
  g.confirmed(clock.now - 5_500)
  assert.notEqual(g.doubt(), undefined)
  g.confirmed(clock.now - 10)
  assert.equal(g.doubt(), undefined, 'a fresh acknowledged heartbeat ends the doubt')
  g.confirmed(clock.now - 9_000)
  assert.equal(g.doubt(), undefined, 'an older acknowledgement never moves the time back')
})

test('a member without a generation, or told that it is gone, holds writes until its next assignment', () => {
  const { g, clock } = guard()
  clock.generation = false
  assert.match(g.doubt() ?? '', /no generation/)
  clock.generation = true
  g.gone('an offset commit was refused: UNKNOWN_MEMBER_ID')
  g.confirmed(clock.now)
  assert.match(g.doubt() ?? '', /UNKNOWN_MEMBER_ID/, 'a heartbeat alone does not undo it')
  g.assigned()
  assert.equal(g.doubt(), undefined)
})

test('the margin never eats more than half the session', () => {
  assert.equal(guard({ sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 }).g.windowMs, 5_000)
  assert.equal(guard({ sessionTimeoutMs: 4_000, heartbeatIntervalMs: 3_000 }).g.windowMs, 2_000)
})

test('the first question after a pause, whoever asks it, reports that the doubt started; and when it ended', () => {
  const { g, clock, changes } = guard()
  assert.equal(g.doubt(), undefined)
  clock.now += 8_000
  // A commit, the producer or the loop: whichever asks first is told, and the change is reported once.
  assert.notEqual(g.doubt(), undefined)
  assert.notEqual(g.doubt(), undefined)
  assert.deepEqual(changes, ['no heartbeat acknowledged for 8000 ms (session timeout 6000 ms)'])
  g.confirmed(clock.now)
  assert.equal(g.doubt(), undefined)
  assert.deepEqual(changes.slice(1), [undefined])
})

test('an answer that the member is gone reports the doubt at once, before anything asks', () => {
  const { g, changes } = guard()
  g.gone('the group member lost its partitions')
  assert.deepEqual(changes, ['the group member lost its partitions'])
  g.gone('an offset commit was refused')
  assert.equal(changes.length, 1, 'already in doubt: nothing new to report')
  g.assigned()
  assert.equal(g.doubt(), undefined)
  assert.deepEqual(changes.slice(1), [undefined])
})
