import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseScalingPolicyConfig, type ScalingPolicyConfigInput } from '../../../src/autoscale/policy/config.ts'
import { decideReplicas, type ScalingDecision } from '../../../src/autoscale/policy/decide.ts'
import { ScalingSignalsError } from '../../../src/autoscale/policy/errors.ts'
import type { InstanceSelfReport, ScalingSignals } from '../../../src/autoscale/policy/signals.ts'
import { initialPolicyState, type PolicyState } from '../../../src/autoscale/policy/state.ts'
import { ConfigError } from '../../../src/errors.ts'

/** Signals for `partitions` partitions with `lag` spread evenly, measured at second `at`. */
function signals(args: {
  at?: number
  partitions?: number
  lag?: number
  arrival: number | null
  commit?: number | null
  current: number
  processing?: number
  self?: InstanceSelfReport
}): ScalingSignals {
  const partitions = args.partitions ?? 12
  const lag = args.lag ?? 0
  return {
    atMs: (args.at ?? 0) * 1000,
    partitions: Array.from({ length: partitions }, (_, p) => ({
      topic: 'in',
      partition: p,
      endOffset: 1_000_000,
      committedOffset: 1_000_000 - lag / partitions,
      lag: lag / partitions
    })),
    arrivalRate: args.arrival,
    commitRate: args.commit === undefined ? args.arrival : args.commit,
    currentReplicas: args.current,
    ...(args.processing !== undefined ? { processingReplicas: args.processing } : {}),
    ...(args.self ? { instances: args.self } : {})
  }
}

/** No stabilization and no HPA band unless a test asks: each rule is then visible on its own. */
function config(overrides: ScalingPolicyConfigInput = {}) {
  return parseScalingPolicyConfig({
    scaleInStabilizationSeconds: 0,
    hpaTolerance: 0,
    partitionAwareRounding: false,
    ...overrides
  })
}

const busy = (trueRatePerReplica: number): InstanceSelfReport => ({ trueRatePerReplica })

describe('decideReplicas', () => {
  it('sizes by arrival rate over the true per-replica rate and says so', () => {
    const d = decideReplicas(signals({ arrival: 5200, current: 3, partitions: 24, self: busy(1100) }), config())
    assert.equal(d.replicas, 5)
    assert.match(d.reason, /arrival 5200 rec\/s \/ true rate 1100 rec\/s per replica = 4\.73/)
    assert.match(d.reason, /=> 5$/)
  })

  it('adds what drains the backlog within lagDrainTargetSeconds, beyond the lag in flight between commits', () => {
    // 120000 lag, 1000 rec/s arrive: 5000 is in flight (5 s of commits), 115000 must drain in 60 s at 1000/s each.
    const d = decideReplicas(
      signals({ arrival: 1000, lag: 120_000, current: 1, partitions: 24, self: busy(1000) }),
      config()
    )
    assert.equal(d.replicas, Math.ceil(1 + 115_000 / 60_000))
    assert.match(d.reason, /backlog 115000 drains in 60s with \+1\.92/)
  })

  it('rounds up to a count at which no replica holds more partitions than it keeps up with', () => {
    // 4.33 replicas of work on 12 partitions: 5 replicas leave two with 3 partitions (as slow as 4); 6 is the answer.
    const d = decideReplicas(
      signals({ arrival: 4330, current: 2, self: busy(1000) }),
      config({ partitionAwareRounding: true })
    )
    assert.equal(d.replicas, 6)
    assert.match(d.reason, /12 partitions: at most 2 per replica/)
  })

  it('caps at the partition count', () => {
    const d = decideReplicas(signals({ arrival: 30_000, current: 4, self: busy(1000) }), config())
    assert.equal(d.replicas, 12)
    assert.match(d.reason, /capped at 12 partitions/)
  })

  it('keeps within minReplicas and maxReplicas', () => {
    const low = decideReplicas(signals({ arrival: 100, current: 3, self: busy(1000) }), config({ minReplicas: 3 }))
    assert.equal(low.replicas, 3)
    const high = decideReplicas(signals({ arrival: 9000, current: 2, self: busy(1000) }), config({ maxReplicas: 4 }))
    assert.equal(high.replicas, 4)
    assert.match(high.reason, /bounded to 4/)
  })

  it('goes to zero after the idle period and back to one on the first arrivals', () => {
    const c = config({ minReplicas: 0, scaleToZeroAfterSeconds: 300 })
    let state = initialPolicyState()
    const idleAt = (at: number) => {
      const d = decideReplicas(signals({ at, arrival: 0, current: 1, self: busy(1000) }), c, state)
      state = d.state
      return d
    }
    assert.equal(idleAt(0).replicas, 1)
    assert.equal(idleAt(299).replicas, 1)
    const zero = idleAt(300)
    assert.equal(zero.replicas, 0)
    assert.match(zero.reason, /idle for 300s/)
    const stillZero = decideReplicas(signals({ at: 330, arrival: 0, current: 0 }), c, state)
    assert.equal(stillZero.replicas, 0)
    const woken = decideReplicas(signals({ at: 360, arrival: 40, lag: 12, current: 0 }), c, stillZero.state)
    assert.equal(woken.replicas, 1)
    assert.match(woken.reason, /first arrivals after zero/)
  })

  it('wakes from zero to what the arrivals need, at the per-replica rate remembered from before', () => {
    const c = config({ minReplicas: 0, scaleToZeroAfterSeconds: 300 })
    // The group was busy at 1000 rec/s per replica, then idle long enough to go to zero.
    let state = decideReplicas(signals({ at: 0, arrival: 0, current: 2, self: busy(1000) }), c).state
    const zero = decideReplicas(signals({ at: 300, arrival: 0, current: 2, self: busy(1000) }), c, state)
    assert.equal(zero.replicas, 0)
    state = zero.state
    // 6000 rec/s arrive with 90000 lag: 6 replicas for the arrivals, +1 drains (90000 - 6000 x 5 s) in 60 s. One
    // replica first and the rest at the next decision would be two join rebalances and 15 s more lag.
    const woken = decideReplicas(signals({ at: 600, arrival: 6000, lag: 90_000, current: 0 }), c, state)
    assert.equal(woken.replicas, 7)
    assert.match(woken.reason, /first arrivals after zero .*need 7 at 1000 rec\/s per replica -> 7$/)
    // Nothing known about a replica's rate (never busy, nothing configured): one replica, as KEDA would start.
    const cold = decideReplicas(signals({ at: 0, arrival: 6000, lag: 90_000, current: 0 }), c)
    assert.equal(cold.replicas, 1)
  })

  it('does not scale in while arrivals are rising (a burst is starting), but scales out for them', () => {
    const c = config()
    let d = decideReplicas(signals({ at: 0, arrival: 1000, current: 6, self: busy(1000) }), c)
    assert.equal(d.replicas, 2, 'steady: one step in, to 1000 rec/s with 10% headroom')
    // 15 s later the windows show the start of a burst: 1500 rec/s still needs only 2, but the next decision will
    // want more. Removing a pod now would be undone at once.
    d = decideReplicas(signals({ at: 15, arrival: 1500, current: 6, self: busy(1000) }), c, d.state)
    assert.equal(d.replicas, 6)
    assert.match(d.reason, /no scale-in: arrivals rising \(1000 rec\/s -> 1500 rec\/s\)/)
    d = decideReplicas(signals({ at: 30, arrival: 7200, current: 6, partitions: 24, self: busy(1000) }), c, d.state)
    assert.equal(d.replicas, 13, 'a rise scales out, for 7200 rec/s and the rise of 5700 rec/s still to come')
    assert.match(d.reason, /rising: \+5\.7 for the rise to come while pods start/)
    // Once the rate stops rising (within 10% of 15 s before), scale-in resumes.
    d = decideReplicas(signals({ at: 45, arrival: 1000, current: 13, self: busy(1000) }), c, d.state)
    assert.equal(d.replicas, 2)
  })

  it('measures a rise over at least 15 s however often it decides', () => {
    const c = config()
    let state = initialPolicyState()
    let replicas = 0
    // Decisions every second while arrivals climb 2% a second: no two consecutive ones differ by 10%.
    for (let at = 0; at <= 20; at++) {
      const d = decideReplicas(signals({ at, arrival: 1000 * 1.02 ** at, current: 6, self: busy(1000) }), c, state)
      state = d.state
      replicas = d.replicas
      if (at >= 15) assert.match(d.reason, /arrivals rising/)
    }
    assert.equal(replicas, 6)
  })

  it('takes full scale-in steps; a smaller one waits until the need has stayed low much longer', () => {
    // One standby per task: a step of 2 pods is one rebalance with a 1 s handover (the copies are placed for it).
    // A 1-pod step is not, so it costs a warm-up and a second rebalance for half the capacity: it waits
    // 2 x 2 / 1 = 4 scale-in windows, all of them observed.
    const c = config({ standbyReplicas: 1, scaleInStabilizationSeconds: 120 })
    const self = { ...busy(1000), standbyReplicas: 1 }
    let state = initialPolicyState()
    let current = 5
    const at = (t: number, arrival: number) => {
      const d = decideReplicas(signals({ at: t, arrival, current, self }), c, state)
      state = d.state
      current = d.replicas
      return d
    }
    assert.equal(at(0, 5000).replicas, 5)
    assert.equal(at(60, 2700).replicas, 5, 'within the 120 s window')
    assert.equal(at(121, 2700).replicas, 3, 'a full step of 2 after one window (need 2.7 x 1.1 -> 3)')
    const partial = at(300, 1800)
    assert.equal(partial.replicas, 3, '3 -> 2 is a 1-pod step')
    assert.match(partial.reason, /a 1-pod step \(full step 2\) waits 480s \(recent high 5\): holding 3/)
    assert.equal(at(540, 1800).replicas, 3, '3 was recommended at 121 s')
    assert.equal(at(602, 1800).replicas, 2, '480 s with nothing above 2')
  })

  it('with minReplicas 0, an idle group walks down without waiting for the stabilization window', () => {
    const c = config({
      minReplicas: 0,
      standbyReplicas: 1,
      scaleInStabilizationSeconds: 300,
      idleScaleInAfterSeconds: 30,
      scaleToZeroAfterSeconds: 300
    })
    const self = { ...busy(1000), standbyReplicas: 1 }
    let state = decideReplicas(signals({ at: 0, arrival: 11_500, current: 12, self }), c).state
    const replicasAt = (at: number, current: number, arrival = 0) => {
      const d = decideReplicas(signals({ at, arrival, current, self }), c, state)
      state = d.state
      return d
    }
    assert.equal(replicasAt(15, 12).replicas, 12, 'idle for 0 s: the burst is 15 s old')
    const walk = replicasAt(45, 12)
    assert.equal(walk.replicas, 1, 'idle 30 s: one step to one replica, although 12 was recommended 45 s ago')
    assert.match(walk.reason, /idle 30s \(minReplicas 0\): scale-in does not wait for stabilization/)
    // With minReplicas 1 the same silence waits the whole window: it may be a pause, not the end of the work.
    const held = decideReplicas(
      signals({ at: 45, arrival: 0, current: 12, self }),
      { ...c, minReplicas: 1 },
      decideReplicas(
        signals({ at: 15, arrival: 0, current: 12, self }),
        { ...c, minReplicas: 1 },
        decideReplicas(signals({ at: 0, arrival: 11_500, current: 12, self }), { ...c, minReplicas: 1 }).state
      ).state
    )
    assert.equal(held.replicas, 12)
    assert.match(held.reason, /scale-in held by 300s stabilization \(recent high 12\)/)
  })

  it('with burst memory, keeps capacity through gaps like the ones seen and lets go after a longer quiet', () => {
    // Bursts of 9000 rec/s for 60 s every 400 s on 1000 rec/s, the last at 1600 s. The 300 s window alone scales in
    // between them and back out for the next one: three rebalances or more per gap.
    const run = (burstHoldMaxSeconds: number) => {
      const c = config({ scaleInStabilizationSeconds: 300, burstHoldMaxSeconds })
      let state = initialPolicyState()
      let current = 2
      const trace = new Map<number, number>()
      const reasons = new Map<number, string>()
      for (let at = 0; at <= 2700; at += 15) {
        const inBurst = at < 2000 && at % 400 < 60
        const d = decideReplicas(signals({ at, arrival: inBurst ? 9000 : 1000, current, self: busy(1000) }), c, state)
        state = d.state
        current = d.replicas
        trace.set(at, current)
        reasons.set(at, d.reason)
      }
      const counts = [...trace.values()]
      return {
        at: (t: number) => trace.get(t)!,
        why: (t: number) => reasons.get(t)!,
        scaleOuts: counts.filter((n, i) => i > 0 && n > counts[i - 1]!).length
      }
    }
    const plain = run(0)
    const remembering = run(900)
    // Three bursts seen rising out of the calm (400, 800, 1200 s) make a pattern: gaps of about 400 s.
    assert.ok(plain.at(1575) < 10, `without burst memory it scales in before the burst at 1600 s: ${plain.at(1575)}`)
    assert.ok(
      remembering.at(1575) >= 10,
      `with it, the capacity waits for the burst at 1600 s: ${remembering.at(1575)}`
    )
    assert.match(remembering.why(1575), /burst memory: bursts up to \d+s apart, scale-in waits as long/)
    // No burst after 1600 s: once the quiet runs longer than the gaps seen, the capacity goes.
    assert.ok(remembering.at(2040) >= 10)
    assert.ok(remembering.at(2205) < 10, `released after a longer quiet: ${remembering.at(2205)}`)
    assert.ok(remembering.scaleOuts < plain.scaleOuts, `${remembering.scaleOuts} vs ${plain.scaleOuts} scale-outs`)
  })

  it('never goes to zero while minReplicas is above zero', () => {
    let state = initialPolicyState()
    for (let at = 0; at <= 3600; at += 15) {
      const d = decideReplicas(signals({ at, arrival: 0, current: 1, self: busy(1000) }), config(), state)
      assert.equal(d.replicas, 1)
      state = d.state
    }
  })

  it('holds during a rebalance or a restoration: the lag they cause neither scales out nor in', () => {
    for (const self of [
      { ...busy(1000), rebalanceInProgress: true },
      { ...busy(1000), restorationInProgress: true }
    ]) {
      const lagged = decideReplicas(signals({ arrival: 2000, lag: 900_000, current: 3, self }), config())
      assert.equal(lagged.replicas, 3, lagged.reason)
      assert.match(lagged.reason, /hold: (rebalance|restoration) in progress/)
      const quiet = decideReplicas(signals({ arrival: 500, current: 6, self }), config())
      assert.equal(quiet.replicas, 6, 'no scale-in while holding')
    }
  })

  it('still follows a rise in arrivals during a hold (arrivals are measured at the brokers, not distorted)', () => {
    const self = { ...busy(1000), restorationInProgress: true }
    const d = decideReplicas(signals({ arrival: 7000, lag: 900_000, current: 3, self }), config())
    assert.equal(d.replicas, 7)
  })

  it('does not scale in while warm-ups or standby copies are catching up', () => {
    const warming = decideReplicas(
      signals({ arrival: 1000, current: 6, self: { ...busy(1000), warmupProgress: 0.5 } }),
      config()
    )
    assert.equal(warming.replicas, 6)
    assert.match(warming.reason, /warm-ups catching up \(50%\)/)
    const standbys = decideReplicas(
      signals({ arrival: 1000, current: 6, self: { ...busy(1000), standbyReplicas: 0 } }),
      config({ standbyReplicas: 1 })
    )
    assert.equal(standbys.replicas, 6)
    assert.match(standbys.reason, /standby copies catching up/)
  })

  it('does not flap when the load hovers at a threshold', () => {
    const c = config({ scaleInStabilizationSeconds: 120 })
    let state: PolicyState = initialPolicyState()
    let current = 4
    const counts: number[] = []
    for (let i = 0; i < 80; i++) {
      const arrival = 4000 + (i % 2 === 0 ? 80 : -80) + (i % 7) * 10 // 3920..4140 rec/s around 4 replicas' worth
      const d: ScalingDecision = decideReplicas(signals({ at: i * 15, arrival, current, self: busy(1000) }), c, state)
      state = d.state
      current = d.replicas
      counts.push(current)
    }
    const changes = counts.filter((n, i) => i > 0 && n !== counts[i - 1]).length
    assert.ok(changes <= 1, `replica count changed ${changes} times: ${counts.join(',')}`)
  })

  it('does not flap near the partition cap', () => {
    const c = config({ scaleInStabilizationSeconds: 120, partitionAwareRounding: true })
    let state = initialPolicyState()
    let current = 12
    for (let i = 0; i < 60; i++) {
      const arrival = 11_600 + (i % 3) * 300 // 11.6 .. 12.2 replicas' worth on 12 partitions
      const d = decideReplicas(signals({ at: i * 15, arrival, current, self: busy(1000) }), c, state)
      state = d.state
      assert.equal(d.replicas, 12, d.reason)
      current = d.replicas
    }
  })

  it('scales in one step to what the need allows when the per-replica rate is known', () => {
    // After a burst: 10 replicas, 1000 rec/s at 1000 per replica. 2 (with 10% headroom) in one rebalance, not 8.
    const known = decideReplicas(signals({ arrival: 1000, current: 10, self: busy(1000) }), config())
    assert.equal(known.replicas, 2)
    assert.doesNotMatch(known.reason, /step limited/)
    const configured = decideReplicas(signals({ arrival: 1000, current: 10 }), config({ perReplicaRate: 1000 }))
    assert.equal(configured.replicas, 2)
  })

  it('removes at most standbyReplicas + 1 replicas per step while the rate is only a lower bound', () => {
    // No self-report, nothing remembered, no backlog: 10 replicas committing 1000 rec/s say only that one does at
    // least 100 rec/s, so the need (500 rec/s / 100 = 5) may be overstated.
    const none = decideReplicas(signals({ arrival: 500, commit: 1000, current: 10 }), config())
    assert.equal(none.replicas, 9)
    assert.match(none.reason, /scale-in step limited to 1 \(standby replicas 0 \+ 1\)/)
    const one = decideReplicas(signals({ arrival: 500, commit: 1000, current: 10 }), config({ standbyReplicas: 1 }))
    assert.equal(one.replicas, 8)
  })

  it('removes idle replicas beyond the partition count at once (they own nothing to hand over)', () => {
    const d = decideReplicas(signals({ arrival: 11_000, current: 16, self: busy(1000) }), config())
    assert.equal(d.replicas, 12)
  })

  it('waits for the scale-in stabilization window', () => {
    const c = config({ scaleInStabilizationSeconds: 120 })
    let state = decideReplicas(signals({ at: 0, arrival: 6000, current: 6, self: busy(1000) }), c).state
    const early = decideReplicas(signals({ at: 30, arrival: 2000, current: 6, self: busy(1000) }), c, state)
    assert.equal(early.replicas, 6)
    assert.match(early.reason, /scale-in held by 120s stabilization/)
    state = early.state
    const late = decideReplicas(signals({ at: 41, arrival: 2000, current: 6, self: busy(1000) }), c, state)
    assert.equal(late.replicas, 3, 'then one step to 2000 rec/s with 10% headroom')
    // A full step (no standbys: one pod) waits the window; this one frees 3 pods, so it waits a third of it.
    assert.match(late.reason, /a step of 3 pods waits 40s \(window x 1 \/ 3\)/)
  })

  it('lets a large scale-in step wait less: a rebalance is worth window x full step pod-seconds', () => {
    // One standby per task: a full step is 2 pods and waits the 300 s window (600 pod-seconds); a step from 12 to 2
    // frees 10 pods and pays that back in 60 s. A 2-pod step (12 -> 10) still waits the whole window.
    const c = config({ standbyReplicas: 1, scaleInStabilizationSeconds: 300, partitionAwareRounding: true })
    const self = { ...busy(1000), standbyReplicas: 1 }
    let state = decideReplicas(signals({ at: 0, arrival: 11_000, current: 12, self }), c).state
    const at = (t: number, arrival: number) => {
      const d = decideReplicas(signals({ at: t, arrival, current: 12, self }), c, state)
      state = d.state
      return d
    }
    assert.equal(at(59, 1500).replicas, 12, 'within 60 s of the last recommendation of 12')
    const step = at(61, 1500)
    assert.equal(step.replicas, 2)
    assert.match(step.reason, /a step of 10 pods waits 60s \(window x 2 \/ 10\)/)
    state = decideReplicas(signals({ at: 0, arrival: 11_000, current: 12, self }), c).state
    assert.equal(at(61, 9500).replicas, 12, '12 -> 10 (need 9.5 x 1.1 -> 12 anyway): nothing to gain')
  })

  it('lets large steps wait less only while bursts do not recur', () => {
    // A second burst within the hour makes the window a forecast of the next one, not a price: 12 -> 2 then waits
    // the whole window, where after the first burst it waited 60 s.
    const c = config({ standbyReplicas: 1, scaleInStabilizationSeconds: 300, partitionAwareRounding: true })
    const self = { ...busy(1000), standbyReplicas: 1 }
    let state = initialPolicyState()
    let current = 2
    const scaleIns: number[] = []
    for (let t = 0; t <= 1200; t += 15) {
      const inBurst = (t >= 30 && t < 60) || (t >= 630 && t < 660)
      const d = decideReplicas(signals({ at: t, arrival: inBurst ? 11_000 : 1500, current, self }), c, state)
      if (d.replicas < current) scaleIns.push(t)
      state = d.state
      current = d.replicas
    }
    assert.deepEqual(state.burstStartsMs, [30_000, 630_000])
    assert.deepEqual(scaleIns, [105, 945], 'the last 12 recommended at 45 s and 645 s: 60 s, then 300 s later')
  })

  it('takes one larger step rather than a staircase when the lower count comes soon', () => {
    // A fading burst: 12 recommended at 0 s, 6 until 60 s, then 1. With one standby a step of 6 pods waits 100 s and
    // one of 11 pods 54.5 s: at 100 s the step to 6 is allowed, and 12 -> 1 at 114.5 s. Keeping 6 pods 14.5 s longer
    // (87 pod-seconds) costs less than half a rebalance's worth (300): one step, not two.
    const c = config({ standbyReplicas: 1, scaleInStabilizationSeconds: 300, partitionAwareRounding: true })
    const self = { ...busy(1000), standbyReplicas: 1 }
    let state = initialPolicyState()
    const at = (t: number, arrival: number) => {
      const d = decideReplicas(signals({ at: t, arrival, current: 12, self }), c, state)
      state = d.state
      return d
    }
    at(0, 11_000)
    for (const t of [15, 30, 45, 60]) at(t, 4500)
    for (let t = 75; t < 100; t += 15) assert.equal(at(t, 800).replicas, 12, `held at ${t} s`)
    const wait = at(100, 800)
    assert.equal(wait.replicas, 12, '12 -> 6 is allowed now, 12 -> 1 in 14.5 s: it waits')
    assert.match(wait.reason, /12 -> 1 is allowed in 1[45]s: one step then, not 12 -> 6 now/)
    assert.equal(at(114, 800).replicas, 12)
    assert.equal(at(115, 800).replicas, 1)
  })

  it('asks only for counts the HPA will apply through its 10% tolerance', () => {
    // 10 -> 11 is a 10% change the HPA ignores; 12 (20%) is the nearest count it applies.
    const up = decideReplicas(
      signals({ arrival: 10_400, current: 10, partitions: 30, self: busy(1000) }),
      config({ hpaTolerance: 0.1, maxReplicas: 30 })
    )
    assert.equal(up.replicas, 12)
    assert.match(up.reason, /HPA tolerance 0\.1 ignores 10 -> 11; asking 12/)
    // 20 -> 19 is inside the band too; without a scale-down pod limit on the HPA the policy holds...
    const held = decideReplicas(
      signals({ arrival: 17_000, current: 20, partitions: 30, self: busy(1000) }),
      config({ hpaTolerance: 0.1, maxReplicas: 30 })
    )
    assert.equal(held.replicas, 20)
    assert.match(held.reason, /holding 20/)
    // ...with `behavior.scaleDown.policies: Pods 1 per 15 s` the step goes through.
    const stepped = decideReplicas(
      signals({ arrival: 17_000, current: 20, partitions: 30, self: busy(1000) }),
      config({ hpaTolerance: 0.1, maxReplicas: 30, hpaScaleDownLimit: 1 })
    )
    assert.equal(stepped.replicas, 19)
    // A larger scale-in through that limit asks for what the HPA applies on the way: 20 -> 6 becomes 19 first.
    const limited = decideReplicas(
      signals({ arrival: 5000, current: 20, partitions: 30, self: busy(1000) }),
      config({ hpaTolerance: 0.1, maxReplicas: 30, hpaScaleDownLimit: 1 })
    )
    assert.equal(limited.replicas, 19)
    assert.match(limited.reason, /asking 19/)
  })

  it('falls back to the busy commit rate per replica, and remembers it to scale in later', () => {
    // No self-report: while a backlog keeps them busy, 3 replicas commit 2400 rec/s: 800 each is the capacity.
    const c = config()
    const busyGroup = decideReplicas(signals({ arrival: 2000, commit: 2400, lag: 60_000, current: 3 }), c)
    assert.match(busyGroup.reason, /commit rate \(busy\) 800 rec\/s per replica/)
    // Later nothing is waiting and commits equal arrivals (300 each): the remembered 800 still sizes the group.
    const idle = decideReplicas(signals({ arrival: 900, commit: 900, current: 3 }), c, busyGroup.state)
    assert.equal(idle.replicas, 2)
    assert.match(idle.reason, /best busy commit rate 800/)
  })

  it('scales a cold group out while its first slow records are still in flight (rate at most in flight / age)', () => {
    // One instance, 600 records waiting, nothing finished yet: no true rate, no commits. One record in flight for 5 s
    // means at most 0.2 rec/s per replica, so draining 600 records in 60 s needs 50: the 12 partitions.
    const cold = decideReplicas(
      signals({ arrival: 0, commit: null, lag: 600, current: 1, self: { inFlightRateBound: 0.2 } }),
      config()
    )
    assert.equal(cold.replicas, 12)
    assert.match(cold.reason, /in-flight bound 0\.2 rec\/s per replica/)
    assert.equal(cold.state.knownRatePerReplica, null, 'a bound of the moment is not remembered as the rate')
    // Records slower than what was measured before: the bound wins over the older, higher true rate.
    const slower = decideReplicas(
      signals({ arrival: 2, lag: 0, current: 1, self: { trueRatePerReplica: 10, inFlightRateBound: 0.5 } }),
      config()
    )
    assert.equal(slower.replicas, 4, '2 rec/s at 0.5 each')
    // A bound above the true rate says nothing new.
    const fast = decideReplicas(
      signals({ arrival: 2, lag: 0, current: 1, self: { trueRatePerReplica: 10, inFlightRateBound: 50 } }),
      config()
    )
    assert.equal(fast.replicas, 1)
    assert.match(fast.reason, /true rate 10 rec\/s/)
  })

  it('wakes from zero sized by the configured or remembered rate even before the arrival rate is measured', () => {
    // A scaler that just started has no arrival window yet: the lag alone is the backlog to drain in 60 s.
    const configured = decideReplicas(
      signals({ arrival: null, commit: null, lag: 600, current: 0 }),
      config({ perReplicaRate: 1, minReplicas: 0 })
    )
    assert.equal(configured.replicas, 10)
    assert.match(configured.reason, /arrival not measured yet: lag as backlog/)
    const remembered = decideReplicas(signals({ arrival: null, commit: null, lag: 600, current: 0 }), config(), {
      ...initialPolicyState(),
      knownRatePerReplica: 2,
      lastReplicas: 0
    })
    assert.equal(remembered.replicas, 5)
  })

  it('after a restart or an edit (no history) holds the current count for one scale-in window', () => {
    // The group's size is what was last wanted: a fresh state must not scale in at its first decision. The window is
    // the one for the step (10 -> 2 frees 8 pods: 300 s / 8), as if the scaler had recommended 10 just before.
    const c = config({ scaleInStabilizationSeconds: 300 })
    const first = decideReplicas(signals({ at: 1000, arrival: 1000, current: 10, self: busy(1000) }), c)
    assert.equal(first.replicas, 10)
    assert.match(first.reason, /scale-in held by 300s stabilization \(recent high 10\)/)
    const later = decideReplicas(signals({ at: 1030, arrival: 1000, current: 10, self: busy(1000) }), c, first.state)
    assert.equal(later.replicas, 10)
    const after = decideReplicas(signals({ at: 1038, arrival: 1000, current: 10, self: busy(1000) }), c, later.state)
    assert.equal(after.replicas, 2, 'one whole window for the step after the restart, one step down')
  })

  it('holds when no per-replica rate is known yet', () => {
    const d = decideReplicas(signals({ arrival: 5000, commit: null, current: 2 }), config())
    assert.equal(d.replicas, 2)
    assert.match(d.reason, /no per-replica rate yet/)
  })

  it('rejects impossible signals with the field at fault', () => {
    const bad = signals({ arrival: 100, current: 2 })
    assert.throws(
      () => decideReplicas({ ...bad, currentReplicas: 1.5 }, config()),
      (e: unknown) => e instanceof ScalingSignalsError && e.field === 'signals.currentReplicas'
    )
    assert.throws(
      () => decideReplicas({ ...bad, arrivalRate: Number.NaN }, config()),
      (e: unknown) => e instanceof ScalingSignalsError && e.code === 'STREAMLANE_AUTOSCALE_SIGNALS_INVALID'
    )
    assert.throws(
      () => decideReplicas({ ...bad, partitions: [] }, config()),
      (e: unknown) => e instanceof ScalingSignalsError && /no partitions/.test(e.message)
    )
  })
})

describe('parseScalingPolicyConfig', () => {
  it('fills every default', () => {
    const c = parseScalingPolicyConfig()
    assert.equal(c.minReplicas, 1)
    assert.equal(c.lagDrainTargetSeconds, 60)
    assert.equal(c.scaleInStabilizationSeconds, 300)
    assert.equal(c.hpaTolerance, 0.1)
    assert.equal(c.standbyReplicas, 0)
    assert.equal(c.risingArrivalsTolerance, 0.1)
    assert.equal(c.idleScaleInAfterSeconds, 30)
    assert.equal(c.burstHoldMaxSeconds, 0)
  })

  it('accepts a state kept by a version without the newer fields', () => {
    const old = { history: [], idleSinceMs: null, knownRatePerReplica: 1000, lastReplicas: 3 }
    const d = decideReplicas(signals({ arrival: 2500, current: 3, self: busy(1000) }), config(), old)
    assert.equal(d.replicas, 3)
  })

  it('names the field at fault', () => {
    const field = (input: unknown) => {
      try {
        parseScalingPolicyConfig(input as ScalingPolicyConfigInput)
      } catch (e) {
        assert.ok(e instanceof ConfigError)
        return e.field
      }
      assert.fail('expected a ConfigError')
    }
    assert.equal(field({ maxReplicas: 0 }), 'autoscale.policy.maxReplicas')
    assert.equal(field({ minReplicas: 5, maxReplicas: 3 }), 'autoscale.policy.maxReplicas')
    assert.equal(field({ tolerance: 1.5 }), 'autoscale.policy.tolerance')
    assert.equal(field({ lagDrainTarget: 60 }), 'autoscale.policy.lagDrainTarget')
  })
})
