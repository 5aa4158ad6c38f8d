import type { ScalingPolicyConfig } from './config.ts'
import { type HpaModel, hpaCanReach } from './hpa-arithmetic.ts'
import { estimatePerReplicaRate } from './per-replica-rate.ts'
import { replicasFor } from './replica-count.ts'
import { partitionCountOf, type ScalingSignals, totalLag, validateSignals } from './signals.ts'
import { initialPolicyState, type PolicyState, recordRecommendation, stabilize } from './state.ts'

/** One decision: the replica count, why (signals and numbers), and the state to pass to the next decision. */
export interface ScalingDecision {
  replicas: number
  reason: string
  state: PolicyState
}

/**
 * Decides how many replicas the group needs now. Pure: the same signals, config and state always give the same
 * decision. The steps, each visible in `reason`:
 *
 *  1. zero: from zero, the first arrivals (or lag) bring what they need (at least one replica; one when no
 *     per-replica rate is known yet); after `scaleToZeroAfterSeconds` with no arrivals and no lag (and `minReplicas`
 *     0) the group goes to zero;
 *  2. need = arrival / per-replica rate + backlog / (per-replica rate * lagDrainTargetSeconds), where backlog is the
 *     lag beyond what is normally in flight between commits;
 *  3. whole replicas, partition-aware (see replica-count.ts), capped at the partition (or task) count;
 *  4. hysteresis: scale in only to a count that keeps `tolerance` headroom;
 *  5. hold: while a rebalance or a restoration is under way the lag is distorted by the pause itself, so it is left
 *     out and nothing scales in (arrivals, measured at the brokers, still count, so a growing load is not ignored);
 *     while warm-ups or standby copies catch up or replicas are still joining, the lag counts but nothing scales in;
 *     nor while arrivals are rising (a burst is starting);
 *  6. stabilization windows over the recommendation history (with `minReplicas` 0, an idle group skips the
 *     scale-in window; with burst memory, the window stretches to the gaps seen between bursts); a scale-in step of
 *     at most standbyReplicas + 1, and a smaller one waits longer (a rebalance, or two, for fewer pods);
 *  7. min / max, then only counts the HPA will actually apply (its tolerance band, see hpa-arithmetic.ts).
 */
export function decideReplicas(
  signals: ScalingSignals,
  config: ScalingPolicyConfig,
  state: PolicyState = initialPolicyState()
): ScalingDecision {
  validateSignals(signals)
  const now = signals.atMs
  const partitions = partitionCountOf(signals)
  const current = signals.currentReplicas
  const lag = totalLag(signals)
  const arrivalKnown = signals.arrivalRate !== null
  const arrival = signals.arrivalRate ?? 0
  const self = signals.instances ?? {}
  const activeFloor = Math.max(1, config.minReplicas)
  const ceiling = Math.max(Math.min(config.maxReplicas, partitions), activeFloor)

  const idle = arrivalKnown && arrival === 0 && lag <= config.activationLag
  const idleSinceMs = idle ? (state.idleSinceMs ?? now) : null
  // Long enough for the slowest window that reads it (a one-pod step waits 2 x (standbyReplicas + 1) windows), and
  // one window more, so that a window can be seen whole.
  const keepMs =
    Math.max(
      config.scaleOutStabilizationSeconds,
      Math.max(config.scaleInStabilizationSeconds, config.burstHoldMaxSeconds) *
        (PARTIAL_STEP_COST * (config.standbyReplicas + 1) + 1)
    ) * 1000
  // The arrival rates a rise is measured against: one seen between RISING_INTERVAL_MS and twice that ago (`older`),
  // however often the caller decides; `newer` becomes `older` once it is old enough.
  const seen = shiftArrivalSamples(state.arrivalSamples ?? null, arrivalKnown ? arrival : null, now)
  const baseline = seen?.older ?? null
  const finish = (replicas: number, reason: string, extra: Partial<PolicyState> = {}): ScalingDecision => ({
    replicas,
    reason,
    state: { ...state, idleSinceMs, lastReplicas: replicas, arrivalSamples: seen, ...extra }
  })

  // 1. Zero and back.
  if (current === 0) {
    if (lag > config.activationLag || arrival > 0) {
      // KEDA activates the target (to one) and the HPA applies the metric in the same poll, so asking for what the
      // arrivals need now saves a join rebalance (one pod, then the rest) and the lag of the detour.
      const wake = wakeReplicas({ arrival: arrivalKnown ? arrival : null, lag, partitions, config, state })
      const replicas = Math.min(Math.max(wake.replicas, activeFloor), ceiling)
      return finish(
        replicas,
        `first arrivals after zero (arrival ${rate(arrival)}, lag ${count(lag)})${wake.why} -> ${replicas}`,
        { history: [{ atMs: now, replicas }] }
      )
    }
    if (config.minReplicas === 0) return finish(0, `idle at zero (no arrivals, lag ${count(lag)})`, { history: [] })
  } else if (config.minReplicas === 0 && idle && idleSinceMs !== null) {
    const idleSeconds = (now - idleSinceMs) / 1000
    if (idleSeconds >= config.scaleToZeroAfterSeconds) {
      return finish(
        0,
        `idle for ${count(idleSeconds)}s (no arrivals, lag ${count(lag)} <= ${config.activationLag}) >= ` +
          `${config.scaleToZeroAfterSeconds}s -> 0`,
        { history: [] }
      )
    }
  }

  // 2. How much work there is, in replicas.
  const rebalancing = self.rebalanceInProgress === true
  const restoring = self.restorationInProgress === true
  const warming = self.warmupProgress !== undefined && self.warmupProgress < 1
  const joining = signals.processingReplicas !== undefined && signals.processingReplicas < Math.min(current, partitions)
  const distorted = rebalancing || restoring
  const inFlight = arrival * config.normalLagSeconds
  const backlog = Math.max(0, lag - inFlight)
  const estimate = estimatePerReplicaRate({ signals, config, known: state.knownRatePerReplica, backlog, distorted })
  const known = estimate.known
  if (!estimate.rate) {
    const held = Math.min(Math.max(current, activeFloor), Math.max(current, ceiling))
    return finish(
      held,
      `no per-replica rate yet (no self-report, no perReplicaRate, no commits to measure): holding ${held}`,
      { knownRatePerReplica: known }
    )
  }
  const perReplica = estimate.rate.recordsPerSecond
  const parts: string[] = []
  const rateNeed = arrival / perReplica
  parts.push(
    arrivalKnown
      ? `arrival ${rate(arrival)} / ${estimate.rate.source} ${rate(perReplica)} per replica = ${num(rateNeed)}`
      : 'arrival rate not measured yet'
  )
  // During a rebalance or a restoration processing is stopped on purpose: the lag it adds says nothing about missing
  // capacity (reacting to it is how KEDA's scaler feeds rebalance loops), and commits stall too. The decision holds:
  // no lag term, no scale-in; only a rise in arrivals, measured at the brokers and not distorted, may still scale out.
  const holdBecause = rebalancing ? 'rebalance in progress' : restoring ? 'restoration in progress' : null
  // While a scale-out is still taking effect (pods starting, warm-ups catching up) the backlog is real and counts,
  // but no pod is removed in the middle of a handover.
  // Removing a pod before its tasks' standby copies have caught up would turn a handover into a restore.
  const standbysBehind =
    self.standbyReplicas !== undefined &&
    self.standbyReplicas < config.standbyReplicas &&
    current > config.standbyReplicas
  const handoverBecause = warming
    ? `warm-ups catching up (${Math.round((self.warmupProgress ?? 0) * 100)}%)`
    : joining
      ? `${current - (signals.processingReplicas ?? 0)} replica(s) not processing yet`
      : standbysBehind
        ? `standby copies catching up (${self.standbyReplicas} of ${config.standbyReplicas} per task ready)`
        : null
  let drainNeed = 0
  if (holdBecause) {
    parts.push(`hold: ${holdBecause} (lag ${count(lag)} ignored, no scale-in)`)
  } else if (backlog > 0) {
    drainNeed = backlog / (perReplica * config.lagDrainTargetSeconds)
    parts.push(`backlog ${count(backlog)} drains in ${config.lagDrainTargetSeconds}s with +${num(drainNeed)}`)
  }
  if (handoverBecause) parts.push(`no scale-in: ${handoverBecause}`)
  // A burst is starting while the arrival rate climbs: the windows still average in the calm before it, and a pod
  // removed now is added back (two rebalances) a decision later.
  const rising =
    arrivalKnown && baseline !== null && arrival > 0 && arrival > baseline.rate * (1 + config.risingArrivalsTolerance)
  if (rising) parts.push(`no scale-in: arrivals rising (${rate(baseline.rate)} -> ${rate(arrival)})`)
  const need = rateNeed + drainNeed

  // 3 and 4. Whole replicas, hysteresis.
  const sized = replicasFor(need, partitions, config.partitionAwareRounding)
  let candidate = sized.replicas
  parts.push(`need ${num(need)} -> ${sized.replicas}`)
  const unit = signals.partitionCountUnit ?? 'partitions'
  if (sized.capped) parts.push(`capped at ${partitions} ${unit}`)
  else if (sized.replicas > Math.ceil(need - 1e-9) && config.partitionAwareRounding) {
    parts.push(`(${partitions} ${unit}: at most ${sized.partitionsPerReplica} per replica)`)
  }
  if (candidate <= current) {
    const withHeadroom = replicasFor(need * (1 + config.tolerance), partitions, config.partitionAwareRounding).replicas
    if (candidate < current) {
      candidate = Math.min(current, withHeadroom)
      if (candidate === current)
        parts.push(`keeping ${current}: ${withHeadroom} needed with ${pct(config.tolerance)} headroom`)
    }
  }
  const bounded = Math.min(Math.max(candidate, activeFloor), ceiling)
  if (bounded !== candidate) parts.push(`bounded to ${bounded} (min ${config.minReplicas}, max ${ceiling})`)
  candidate = bounded

  // 6. Stabilization over the unheld recommendations (a hold is not a recommendation: recording it would delay the
  // next scale-in by a whole window after every handover), then the hold and the scale-in step.
  const history = recordRecommendation(state.history, { atMs: now, replicas: candidate }, keepMs)
  // Burst memory: a burst starts when arrivals rise so that they alone need more replicas than 15-30 s before
  // (whether or not the replicas kept from the last burst absorb it).
  const burstStarts =
    rising &&
    baseline !== null &&
    replicasFor(rateNeed, partitions, config.partitionAwareRounding).replicas >
      replicasFor(baseline.rate / perReplica, partitions, config.partitionAwareRounding).replicas
  const burstStartsMs = recordBurst(state.burstStartsMs ?? [], burstStarts, now, config)
  let scaleInWindowMs = config.scaleInStabilizationSeconds * 1000
  const idleSeconds = idleSinceMs === null ? 0 : (now - idleSinceMs) / 1000
  const idleWalk = config.minReplicas === 0 && idle && idleSeconds >= config.idleScaleInAfterSeconds
  if (idleWalk) {
    // Idle with minReplicas 0: the group goes to zero after scaleToZeroAfterSeconds anyway. Holding burst-sized
    // capacity until then saves no rebalance (zero is one step from any count) and costs replicas.
    scaleInWindowMs = 0
    parts.push(`idle ${count(idleSeconds)}s (minReplicas 0): scale-in does not wait for stabilization`)
  } else {
    const burstHoldMs = burstHold(burstStartsMs, config)
    if (burstHoldMs > scaleInWindowMs) {
      scaleInWindowMs = burstHoldMs
      parts.push(`burst memory: bursts up to ${count(burstHoldMs / 1000)}s apart, scale-in waits as long`)
    }
  }
  let replicas = stabilize(history, now, current, config.scaleOutStabilizationSeconds * 1000, scaleInWindowMs)
  if (replicas !== candidate) {
    parts.push(
      replicas > candidate
        ? `scale-in held by ${count(scaleInWindowMs / 1000)}s stabilization (recent high ${replicas})`
        : `scale-out held by ${config.scaleOutStabilizationSeconds}s stabilization`
    )
  }
  const blockScaleIn = holdBecause !== null || handoverBecause !== null || !arrivalKnown || rising
  if (blockScaleIn && replicas < current) replicas = current
  const standby = self.standbyReplicas ?? config.standbyReplicas
  const fullStep = standby + 1
  if (replicas < current) {
    // Replicas beyond the partition count own nothing, so removing them hands nothing over.
    const lowest = Math.min(current - fullStep, Math.max(partitions, activeFloor))
    if (replicas < lowest) {
      parts.push(`scale-in step limited to ${current - lowest} (standby replicas ${standby} + 1)`)
      replicas = lowest
    }
  }
  if (replicas < current && replicas < partitions && current - replicas < fullStep) {
    // A full step is one rebalance with a one-second handover: the standby copies are placed where it sends the
    // tasks. A smaller step frees fewer pods for the same rebalance, and where the copies were not placed for it its
    // tasks warm up first (a second rebalance). It must have been recommended for PARTIAL_STEP_COST x fullStep / k
    // scale-in windows (idle or not), all of them observed: fewer, larger steps, and the last pods above the need go
    // only if it stays low.
    const step = current - replicas
    const windowMs = Math.max(scaleInWindowMs, config.scaleInStabilizationSeconds * 1000)
    const waitMs = Math.min((windowMs * PARTIAL_STEP_COST * fullStep) / step, keepMs - windowMs)
    const observedMs = now - (history[0]?.atMs ?? now)
    let recentHigh = replicas
    for (const r of history) if (r.atMs >= now - waitMs) recentHigh = Math.max(recentHigh, r.replicas)
    if (recentHigh > replicas || observedMs < waitMs) {
      parts.push(
        `a ${step}-pod step (full step ${fullStep}) waits ${count(waitMs / 1000)}s ` +
          (recentHigh > replicas ? `(recent high ${recentHigh})` : `(${count(observedMs / 1000)}s observed)`) +
          `: holding ${current}`
      )
      replicas = current
    }
  }

  // 7. Only counts the HPA will apply.
  if (config.hpaTolerance > 0 && replicas !== current && current > 0) {
    const hpa: HpaModel = {
      tolerance: config.hpaTolerance,
      minReplicas: activeFloor,
      maxReplicas: config.maxReplicas,
      ...(config.hpaScaleDownLimit !== undefined ? { scaleDownLimit: config.hpaScaleDownLimit } : {})
    }
    if (!hpaCanReach(current, replicas, hpa)) {
      let reachable: number | null = null
      if (replicas > current) {
        for (let r = replicas + 1; r <= config.maxReplicas && reachable === null; r++) {
          if (hpaCanReach(current, r, hpa)) reachable = r
        }
      }
      const target = reachable ?? current
      parts.push(
        `HPA tolerance ${config.hpaTolerance} ignores ${current} -> ${replicas}; ` +
          (reachable === null
            ? `holding ${current}`
            : `asking ${reachable}${reachable > partitions ? ` (${reachable - partitions} idle)` : ''}`)
      )
      replicas = target
    }
  }
  return finish(replicas, `${parts.join('; ')} => ${replicas}`, {
    history,
    knownRatePerReplica: known,
    burstStartsMs
  })
}

/** From zero: what the arrivals and the lag need, sized with the per-replica rate remembered from before zero. */
function wakeReplicas(args: {
  arrival: number | null
  lag: number
  partitions: number
  config: ScalingPolicyConfig
  state: PolicyState
}): { replicas: number; why: string } {
  const { arrival, lag, partitions, config, state } = args
  const perReplica = config.perReplicaRate ?? state.knownRatePerReplica
  if (arrival === null || perReplica === null || !(perReplica > 0)) return { replicas: 1, why: '' }
  const backlog = Math.max(0, lag - arrival * config.normalLagSeconds)
  const need = arrival / perReplica + backlog / (perReplica * config.lagDrainTargetSeconds)
  const sized = replicasFor(need, partitions, config.partitionAwareRounding)
  return { replicas: sized.replicas, why: `; need ${num(need)} at ${rate(perReplica)} per replica` }
}

/** A rise in arrivals is measured over at least this long (the HPA's sync period). */
const RISING_INTERVAL_MS = 15_000

type ArrivalSamples = NonNullable<PolicyState['arrivalSamples']>

function shiftArrivalSamples(
  samples: ArrivalSamples | null,
  arrival: number | null,
  now: number
): ArrivalSamples | null {
  if (arrival === null) return null
  if (samples === null) return { older: null, newer: { atMs: now, rate: arrival } }
  if (now - samples.newer.atMs >= RISING_INTERVAL_MS)
    return { older: samples.newer, newer: { atMs: now, rate: arrival } }
  return samples
}

/** Rebalances a partial scale-in step costs (a warm-up and the move), against one for a full step. */
const PARTIAL_STEP_COST = 2

/** Minimum time between two recorded burst starts: a burst whose rate windows catch up in steps is one burst. */
const BURST_MIN_GAP_MS = 60_000
/** Burst starts that make a pattern: two gaps agree on something, one is an anecdote. */
const BURST_PATTERN = 3
/** How far back burst starts are remembered (at least): a pattern older than this says little about the next gap. */
const BURST_MEMORY_MS = 3_600_000

/** Burst starts within memory, with this decision's if a burst starts now. */
function recordBurst(
  previous: readonly number[],
  starting: boolean,
  now: number,
  config: ScalingPolicyConfig
): number[] {
  if (config.burstHoldMaxSeconds === 0) return []
  const memoryMs = Math.max(BURST_MEMORY_MS, 4 * config.burstHoldMaxSeconds * 1000)
  const starts = previous.filter((t) => t >= now - memoryMs)
  const last = starts[starts.length - 1]
  if (starting && (last === undefined || now - last >= BURST_MIN_GAP_MS)) starts.push(now)
  return starts
}

/** The scale-in window burst memory asks for: the longest of the last three gaps, capped; 0 without a pattern. */
function burstHold(starts: readonly number[], config: ScalingPolicyConfig): number {
  if (config.burstHoldMaxSeconds === 0 || starts.length < BURST_PATTERN) return 0
  let longest = 0
  for (let i = Math.max(1, starts.length - 3); i < starts.length; i++) {
    longest = Math.max(longest, starts[i]! - starts[i - 1]!)
  }
  return Math.min(longest, config.burstHoldMaxSeconds * 1000)
}

function rate(recordsPerSecond: number): string {
  return `${num(recordsPerSecond)} rec/s`
}

function count(value: number): string {
  return String(Math.round(value))
}

function num(value: number): string {
  if (Math.abs(value) >= 100) return String(Math.round(value))
  return String(Math.round(value * 100) / 100)
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`
}
