import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ScalingPolicy } from '../../../src/autoscale/keda/policy-port.ts'
import {
  initialLocalState,
  type LocalScalerState,
  type LocalStepConfig,
  restartDelayMs,
  type StepInput,
  stepLocalScaler,
  type WorkerObservation
} from '../../../src/autoscale/local/step.ts'
import { parseScalingPolicyConfig } from '../../../src/autoscale/policy/config.ts'
import type { GroupSignals } from '../../../src/autoscale/signals/types.ts'

const config: LocalStepConfig = {
  groupId: 'g',
  policy: parseScalingPolicyConfig({ minReplicas: 1, maxReplicas: 4, hpaTolerance: 0 }),
  startTimeoutMs: 10_000,
  restartBackoffMs: 1_000,
  maxRestartBackoffMs: 8_000,
  stableAfterMs: 30_000
}

/** A policy that recommends whatever the test says, and counts how often it was asked. */
function fixedPolicy(replicas: () => number): ScalingPolicy & { calls: number } {
  const policy = {
    calls: 0,
    targetSize: 1,
    decide(_signals: GroupSignals, _targets: unknown, state: unknown, current: number) {
      policy.calls++
      const r = replicas()
      return {
        replicas: r,
        reason: `fixed ${current} -> ${r}`,
        state: { asked: ((state as { asked?: number })?.asked ?? 0) + 1 }
      }
    },
    metric: () => ({ metricValue: 0, target: 1, active: true, exact: true, hpaReplicas: 0 })
  }
  return policy as unknown as ScalingPolicy & { calls: number }
}

function signals(
  options: { state?: string; members?: string[]; lag?: number; arrival?: number | null; rebalancing?: boolean } = {}
): GroupSignals {
  const lag = options.lag ?? 0
  return {
    snapshot: {
      groupId: 'g',
      at: 1,
      state: options.state ?? 'Stable',
      topics: ['t'],
      partitions: Array.from({ length: 6 }, (_, partition) => ({
        topic: 't',
        partition,
        logStartOffset: 0,
        endOffset: 1_000 + lag / 6,
        committedOffset: 1_000,
        lag: lag / 6,
        lagBasis: 'committed' as const
      })),
      members: (options.members ?? []).map((id, i) => ({
        memberId: `m${i}`,
        groupInstanceId: id,
        clientId: id,
        host: '/127.0.0.1',
        assignment: [{ topic: 't', partitions: [i] }]
      })),
      tasks: { count: 6, basis: 'partitions' },
      totalLag: lag,
      noCommittedOffsets: false,
      unknownGroup: false
    },
    rates: { arrivalRate: options.arrival === undefined ? 0 : options.arrival, commitRate: 0, windowSeconds: 30 },
    instances: {
      reporting: 0,
      rebalanceInProgress: options.rebalancing ?? false,
      restorationInProgress: false
    }
  }
}

const running = (slot: number, startedAtMs = 0, incarnation = 1): WorkerObservation => ({
  slot,
  incarnation,
  phase: 'running',
  startedAtMs
})

function step(state: LocalScalerState, input: Partial<StepInput> & { nowMs: number }, policy: ScalingPolicy) {
  return stepLocalScaler(state, { signals: null, workers: [], reporting: [], ...input }, config, policy)
}

test('first step starts the minimum, even without signals', () => {
  const result = step(
    initialLocalState(2),
    { nowMs: 0, signalError: 'STREAMLANE_SCALER_KAFKA_UNAVAILABLE' },
    fixedPolicy(() => 4)
  )
  assert.deepEqual(
    result.actions.map((a) => [a.type, a.slot]),
    [
      ['start', 0],
      ['start', 1]
    ]
  )
  assert.equal(result.state.replicas, 2)
  assert.match(result.decision.reason, /no decision \(STREAMLANE_SCALER_KAFKA_UNAVAILABLE\): holding 2/)
  assert.equal(result.decision.recommended, null)
})

test('scale out once every worker has joined; hold while one is still starting', () => {
  const policy = fixedPolicy(() => 3)
  const state = { ...initialLocalState(1), ready: {} }
  // Worker 0 started 1 s ago and is not in the group yet: the count holds, the policy is still asked.
  const held = step(state, { nowMs: 1_000, signals: signals(), workers: [running(0)] }, policy)
  assert.deepEqual(held.actions, [])
  assert.equal(held.decision.hold, 'worker(s) g-worker-0 still starting')
  assert.equal(held.decision.recommended, 3)
  assert.equal(held.state.replicas, 1)
  assert.equal(policy.calls, 1)
  assert.deepEqual(held.state.policy, { asked: 1 }, 'the policy state advances while held')

  // Seen in the group by its static id: joined, and the scale-out goes ahead from the lowest free slot.
  const out = step(
    held.state,
    { nowMs: 1_500, signals: signals({ members: ['g-worker-0'] }), workers: [running(0)] },
    policy
  )
  assert.equal(out.events[0]?.message, 'worker g-worker-0 joined')
  assert.deepEqual(
    out.actions.map((a) => [a.type, a.slot]),
    [
      ['start', 1],
      ['start', 2]
    ]
  )
  assert.equal(out.state.replicas, 3)
  assert.equal(out.decision.hold, null)

  // A self-report counts as joined too.
  const reported = step(
    out.state,
    {
      nowMs: 2_000,
      signals: signals({ members: ['g-worker-0'] }),
      workers: [running(0), running(1, 1_500), running(2, 1_500)],
      reporting: ['g-worker-1']
    },
    fixedPolicy(() => 4)
  )
  assert.equal(reported.decision.hold, 'worker(s) g-worker-2 still starting')
})

test('a worker never seen is presumed started after startTimeoutMs, with a warning', () => {
  const state = initialLocalState(1)
  const result = step(
    state,
    { nowMs: 10_000, signals: signals(), workers: [running(0)] },
    fixedPolicy(() => 2)
  )
  assert.equal(result.events[0]?.level, 'warn')
  assert.match(result.events[0]?.message ?? '', /has not joined group g after 10000 ms; presumed started/)
  assert.deepEqual(
    result.actions.map((a) => [a.type, a.slot]),
    [['start', 1]]
  )
})

test('no change while a worker is stopping or the group rebalances', () => {
  const ready: LocalScalerState = { ...initialLocalState(2), ready: { 0: 1, 1: 1 } }
  const stopping = step(
    { ...ready, replicas: 1 },
    { nowMs: 5_000, signals: signals(), workers: [running(0), { ...running(1), phase: 'stopping' }] },
    fixedPolicy(() => 3)
  )
  assert.deepEqual(stopping.actions, [])
  assert.equal(stopping.decision.hold, 'worker(s) g-worker-1 still stopping')

  for (const s of [
    signals({ state: 'PreparingRebalance' }),
    signals({ state: 'CompletingRebalance' }),
    signals({ rebalancing: true })
  ]) {
    const result = step(
      ready,
      { nowMs: 5_000, signals: s, workers: [running(0), running(1)] },
      fixedPolicy(() => 1)
    )
    assert.deepEqual(result.actions, [])
    assert.match(result.decision.hold ?? '', /group rebalancing/)
    assert.match(result.decision.reason, /held at 2: group rebalancing/)
  }
})

test('scale-in stops the highest slots only, and drops a crashed slot above the new count', () => {
  const state: LocalScalerState = { ...initialLocalState(4), ready: { 0: 1, 1: 1, 2: 1, 3: 1 } }
  const workers = [running(0), running(1), running(2), running(3)]
  const one = step(
    state,
    { nowMs: 60_000, signals: signals(), workers },
    fixedPolicy(() => 3)
  )
  assert.deepEqual(one.actions, [{ type: 'stop', slot: 3, reason: 'scale in 4 -> 3' }])
  assert.equal(one.state.replicas, 3)

  const crashed: WorkerObservation = { ...running(3), phase: 'exited', exitedAtMs: 59_000 }
  // The policy asks for 1: one step, as the policy sized it (it limits the step itself when its rate is only a lower
  // bound). The running slots above 1 stop, the crashed one is just dropped.
  const two = step(
    state,
    { nowMs: 60_000, signals: signals(), workers: [running(0), running(1), running(2), crashed] },
    fixedPolicy(() => 1)
  )
  assert.deepEqual(two.actions, [
    { type: 'forget', slot: 3, reason: 'scale in 4 -> 1' },
    { type: 'stop', slot: 2, reason: 'scale in 4 -> 1' },
    { type: 'stop', slot: 1, reason: 'scale in 4 -> 1' }
  ])
  assert.equal(two.state.replicas, 1)
  assert.equal(two.state.crashes[3], undefined)
  // The next change waits for the step's workers to exit.
  const three = step(
    two.state,
    {
      nowMs: 60_500,
      signals: signals(),
      workers: [running(0), { ...running(1), phase: 'stopping' }, { ...running(2), phase: 'stopping' }]
    },
    fixedPolicy(() => 3)
  )
  assert.deepEqual(three.actions, [])
  assert.match(three.decision.hold ?? '', /still stopping/)
})

test('crashed workers restart in their slot with doubling backoff, reset after a stable run', () => {
  const policy = fixedPolicy(() => 1)
  let state: LocalScalerState = { ...initialLocalState(1), ready: { 0: 1 } }
  const crash = (incarnation: number, startedAtMs: number, exitedAtMs: number): WorkerObservation => ({
    slot: 0,
    incarnation,
    phase: 'exited',
    startedAtMs,
    exitedAtMs
  })

  // Crash 1 at t=5 s: restart at 6 s, not before.
  let r = step(state, { nowMs: 5_000, signals: null, workers: [crash(1, 0, 5_000)] }, policy)
  assert.deepEqual(r.actions, [])
  assert.match(r.events[0]?.message ?? '', /g-worker-0 exited unexpectedly; restarting in 1000 ms/)
  state = r.state
  r = step(state, { nowMs: 6_000, signals: null, workers: [crash(1, 0, 5_000)] }, policy)
  assert.deepEqual(r.actions, [{ type: 'start', slot: 0, reason: 'restart after crash 1 in a row' }])
  state = r.state

  // The restarted worker dies quickly again: the delay doubles.
  r = step(state, { nowMs: 6_500, signals: null, workers: [running(0, 6_000, 2)] }, policy)
  state = r.state
  r = step(state, { nowMs: 7_000, signals: null, workers: [crash(2, 6_000, 7_000)] }, policy)
  assert.match(r.events[0]?.message ?? '', /restarting in 2000 ms/)
  assert.equal(r.state.crashes[0]?.count, 2)
  state = r.state
  r = step(state, { nowMs: 8_999, signals: null, workers: [crash(2, 6_000, 7_000)] }, policy)
  assert.deepEqual(r.actions, [])
  r = step(r.state, { nowMs: 9_000, signals: null, workers: [crash(2, 6_000, 7_000)] }, policy)
  assert.equal(r.actions[0]?.type, 'start')

  // A worker that ran past stableAfterMs starts the count afresh.
  r = step(r.state, { nowMs: 50_000, signals: null, workers: [running(0, 9_000, 3)] }, policy)
  assert.equal(r.state.crashes[0], undefined)
  r = step(r.state, { nowMs: 50_000, signals: null, workers: [crash(3, 9_000, 50_000)] }, policy)
  assert.equal(r.state.crashes[0]?.count, 1)

  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => restartDelayMs(n, config)),
    [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]
  )
})

test('a crashed worker waiting for its restart does not block scaling', () => {
  const state: LocalScalerState = { ...initialLocalState(2), ready: { 0: 1 } }
  const workers: WorkerObservation[] = [running(0), { ...running(1), phase: 'exited', exitedAtMs: 9_000 }]
  const r = step(
    state,
    { nowMs: 9_500, signals: signals({ members: ['g-worker-0'] }), workers },
    fixedPolicy(() => 3)
  )
  assert.deepEqual(
    r.actions.map((a) => [a.type, a.slot]),
    [['start', 2]]
  )
})

test('a policy that refuses the signals holds the count, it does not crash the loop', () => {
  const throwing = fixedPolicy(() => {
    throw new Error('signals.partitions[0].lag is negative')
  })
  const r = step(
    { ...initialLocalState(1), ready: { 0: 1 } },
    { nowMs: 1, signals: signals(), workers: [running(0)] },
    throwing
  )
  assert.deepEqual(r.actions, [])
  assert.match(r.decision.reason, /the policy refused the signals: signals.partitions\[0\].lag is negative/)
})

test('with the real policy: a backlog and a reported true rate scale out', () => {
  const s = signals({ members: ['g-worker-0'], lag: 6_000, arrival: 600 })
  s.instances.trueRatePerInstance = 500
  const out = stepLocalScaler(
    { ...initialLocalState(1), ready: { 0: 1 } },
    { nowMs: 1_000, signals: s, workers: [running(0)], reporting: [] },
    { ...config, policy: parseScalingPolicyConfig({ ...config.policy, lagDrainTargetSeconds: 10 }) }
  )
  // arrival 600 / 500 = 1.2, backlog (6000 - 600 x 5) / (500 x 10) = 0.6: need 1.8 -> 2 replicas.
  assert.equal(out.decision.replicas, 2)
  assert.match(out.decision.reason, /true rate 500 rec\/s per replica/)
  assert.deepEqual(
    out.actions.map((a) => [a.type, a.slot]),
    [['start', 1]]
  )
})

test('with the real policy and --min 0: an idle group goes to zero, and the first lag brings one worker back', () => {
  const zeroConfig = {
    ...config,
    policy: parseScalingPolicyConfig({ ...config.policy, minReplicas: 0, scaleToZeroAfterSeconds: 0 })
  }
  const idle = signals({ members: ['g-worker-0'], lag: 0, arrival: 0 })
  const down = stepLocalScaler(
    { ...initialLocalState(1), ready: { 0: 1 } },
    { nowMs: 1_000, signals: idle, workers: [running(0)], reporting: [] },
    zeroConfig
  )
  assert.deepEqual(down.actions, [{ type: 'stop', slot: 0, reason: 'scale in 1 -> 0' }])
  assert.match(down.decision.reason, /idle for 0s .* -> 0/)

  const woken = stepLocalScaler(
    down.state,
    { nowMs: 5_000, signals: signals({ lag: 60, arrival: 0 }), workers: [], reporting: [] },
    zeroConfig
  )
  assert.deepEqual(woken.actions, [{ type: 'start', slot: 0, reason: 'scale out 0 -> 1' }])
  assert.match(woken.decision.reason, /first arrivals after zero/)
})
