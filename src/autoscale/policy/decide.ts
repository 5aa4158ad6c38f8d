import type { ScalingPolicyConfig } from './config.ts'
import { type HpaModel, hpaCanReach } from './hpa-arithmetic.ts'
import { estimatePerReplicaRate } from './per-replica-rate.ts'
import { count, num, pct, rate } from './reason-text.ts'
import { type ReplicaCount, replicasFor } from './replica-count.ts'
import type { ScalingSignals } from './signals.ts'
import { validateSignals } from './signals.ts'
import { type Need, type Outcome, type Situation, situationOf } from './situation.ts'
import { limitScaleInStep, scaleInWindow, stabilized } from './stabilization.ts'
import { initialPolicyState, type PolicyState, recordRecommendation } from './state.ts'

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
  const s = situationOf(signals, config, state)
  const finish = (outcome: Outcome): ScalingDecision => ({
    replicas: outcome.replicas,
    reason: outcome.reason,
    state: {
      ...state,
      idleSinceMs: s.idleSinceMs,
      lastReplicas: outcome.replicas,
      arrivalSamples: s.seen,
      ...outcome.state
    }
  })

  const atZero = zeroAndBack(s)
  if (atZero) return finish(atZero)
  // Step 5's holds are read first: a rebalance or a restoration changes what the lag counts for in step 2.
  const holds = scaleInHolds(s)
  const need = replicaNeed(s, holds)
  if (need.held) return finish(need.held)
  const parts = [...need.parts, ...holds.parts]
  const sized = wholeReplicas(s, need.replicas, parts)
  const candidate = withHeadroom(s, need.replicas, sized, parts)
  // The history holds what the arrivals alone need: the stabilization windows smooth the arrival rate, whose noise
  // and bursts they exist for. The backlog term is transient (a drained backlog needs nothing), so it applies to this
  // decision only: remembered, it would hold drain-sized capacity for a whole window after the backlog is gone and
  // split one scale-in into two (the arrivals' count later, after a step to the drain's tail now).
  // A hold is not a recommendation either: recording it would delay the next scale-in by a whole window after every
  // handover. So the history holds the unheld candidate, and the hold applies to the stabilized count.
  const forArrivals =
    need.arrivalNeed === need.replicas
      ? candidate
      : withHeadroom(
          s,
          need.arrivalNeed,
          replicasFor(need.arrivalNeed, s.partitions, s.config.partitionAwareRounding),
          []
        )
  const history = recordRecommendation(historyOrGroup(s), { atMs: s.now, replicas: forArrivals }, s.keepMs)
  const window = scaleInWindow(s, need, holds.rising, candidate, parts)
  let replicas = Math.max(stabilized(s, history, candidate, window, parts), candidate)
  if (holds.blockScaleIn && replicas < s.current) replicas = s.current
  replicas = limitScaleInStep(s, replicas, history, window.ms, need.rateKnown, parts)
  replicas = countHpaApplies(s, replicas, parts)
  return finish({
    replicas,
    reason: `${parts.join('; ')} => ${replicas}`,
    state: { history, knownRatePerReplica: need.known, burstStartsMs: window.burstStartsMs }
  })
}

/**
 * The stabilization history, derived from the group when this state has none: a new scaler, a restarted one or an
 * edited ScaledObject starts without history, and an empty history would let it scale in at its first decision. The
 * group's current size is what was last wanted, so it counts as recommended now: scale-in waits one whole window
 * after a restart, as it would after a recommendation of that size. Nothing needs to be stored for this.
 */
function historyOrGroup(s: Situation): PolicyState['history'] {
  const { state, current, now } = s
  if (state.history.length > 0 || state.lastReplicas !== null || current === 0) return state.history
  // Just before now: a recommendation at the same instant would be replaced by this decision's.
  return [{ atMs: now - 1, replicas: current }]
}

/** Step 1, zero and back: the decision when the group wakes from zero, stays there, or has been idle long enough. */
function zeroAndBack(s: Situation): Outcome | null {
  const { config, lag, arrival, now } = s
  if (s.current === 0) {
    if (lag > config.activationLag || arrival > 0) {
      // KEDA activates the target (to one) and the HPA applies the metric in the same poll, so asking for what the
      // arrivals need now saves a join rebalance (one pod, then the rest) and the lag of the detour.
      const wake = wakeReplicas(s)
      const replicas = Math.min(Math.max(wake.replicas, s.activeFloor), s.ceiling)
      return {
        replicas,
        reason: `first arrivals after zero (arrival ${rate(arrival)}, lag ${count(lag)})${wake.why} -> ${replicas}`,
        state: { history: [{ atMs: now, replicas }] }
      }
    }
    if (config.minReplicas === 0)
      return { replicas: 0, reason: `idle at zero (no arrivals, lag ${count(lag)})`, state: { history: [] } }
  } else if (config.minReplicas === 0 && s.idle && s.idleSinceMs !== null) {
    const idleSeconds = (now - s.idleSinceMs) / 1000
    if (idleSeconds >= config.scaleToZeroAfterSeconds) {
      return {
        replicas: 0,
        reason:
          `idle for ${count(idleSeconds)}s (no arrivals, lag ${count(lag)} <= ${config.activationLag}) >= ` +
          `${config.scaleToZeroAfterSeconds}s -> 0`,
        state: { history: [] }
      }
    }
  }
  return null
}

/**
 * From zero: what the arrivals and the lag need, sized at once with the configured per-replica rate or the one
 * remembered from before zero. While the arrival rate is not measured yet (a scaler that just started has no full
 * window), the lag alone is sized as backlog to drain within `lagDrainTargetSeconds`; the next decision adds the
 * arrivals once they are measured.
 */
function wakeReplicas(s: Situation): { replicas: number; why: string } {
  const { config, state, lag } = s
  const perReplica = config.perReplicaRate ?? state.knownRatePerReplica
  if (perReplica === null || !(perReplica > 0)) return { replicas: 1, why: '' }
  const arrival = s.arrivalKnown ? s.arrival : 0
  const backlog = Math.max(0, lag - arrival * config.normalLagSeconds)
  const need = arrival / perReplica + backlog / (perReplica * config.lagDrainTargetSeconds)
  const sized = replicasFor(need, s.partitions, config.partitionAwareRounding)
  const measured = s.arrivalKnown ? '' : ' (arrival not measured yet: lag as backlog)'
  return { replicas: sized.replicas, why: `; need ${num(need)} at ${rate(perReplica)} per replica${measured}` }
}

/** Step 5's reasons not to scale in now, and their parts of the reason. */
interface Holds {
  /** A rebalance or a restoration stopped processing on purpose: the lag says nothing about capacity. */
  readonly distorted: boolean
  readonly holdBecause: string | null
  /** Arrivals are rising: a burst is starting. */
  readonly rising: boolean
  readonly blockScaleIn: boolean
  readonly parts: readonly string[]
}

/** Step 5, hold: why nothing may scale in now (and whether the lag counts at all). */
function scaleInHolds(s: Situation): Holds {
  const { signals, config, self, current, baseline, arrival } = s
  const rebalancing = self.rebalanceInProgress === true
  const restoring = self.restorationInProgress === true
  const warming = self.warmupProgress !== undefined && self.warmupProgress < 1
  const joining =
    signals.processingReplicas !== undefined && signals.processingReplicas < Math.min(current, s.partitions)
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
  const parts: string[] = []
  if (handoverBecause) parts.push(`no scale-in: ${handoverBecause}`)
  // A burst is starting while the arrival rate climbs: the windows still average in the calm before it, and a pod
  // removed now is added back (two rebalances) a decision later.
  const rising =
    s.arrivalKnown && baseline !== null && arrival > 0 && arrival > baseline.rate * (1 + config.risingArrivalsTolerance)
  if (rising) parts.push(`no scale-in: arrivals rising (${rate(baseline.rate)} -> ${rate(arrival)})`)
  return {
    distorted: rebalancing || restoring,
    holdBecause,
    rising,
    blockScaleIn: holdBecause !== null || handoverBecause !== null || !s.arrivalKnown || rising,
    parts
  }
}

/** Step 2, need: arrival / per-replica rate + backlog / (per-replica rate * lagDrainTargetSeconds). */
function replicaNeed(s: Situation, holds: Holds): Need {
  const { signals, config, state, arrival, lag, current } = s
  const inFlight = arrival * config.normalLagSeconds
  const backlog = Math.max(0, lag - inFlight)
  const estimate = estimatePerReplicaRate({
    signals,
    config,
    known: state.knownRatePerReplica,
    backlog,
    distorted: holds.distorted
  })
  if (!estimate.rate) {
    const held = Math.min(Math.max(current, s.activeFloor), Math.max(current, s.ceiling))
    return {
      held: {
        replicas: held,
        reason: `no per-replica rate yet (no self-report, no perReplicaRate, no commits to measure): holding ${held}`,
        state: { knownRatePerReplica: estimate.known }
      }
    }
  }
  const perReplica = estimate.rate.recordsPerSecond
  const parts: string[] = []
  const rateNeed = arrival / perReplica
  parts.push(
    s.arrivalKnown
      ? `arrival ${rate(arrival)} / ${estimate.rate.source} ${rate(perReplica)} per replica = ${num(rateNeed)}`
      : 'arrival rate not measured yet'
  )
  // A rise goes on while the replicas asked for now start and join (about as long as the rise has been measured
  // over): sizing for the rate it reaches by then saves one scale-out step (two rebalances with warm-ups) per
  // interval of a ramp. Only while arrivals rise; the scale-in history keeps the measured rate.
  let riseNeed = 0
  if (holds.rising && s.baseline !== null) {
    riseNeed = (arrival - s.baseline.rate) / perReplica
    parts.push(`rising: +${num(riseNeed)} for the rise to come while pods start`)
  }
  let drainNeed = 0
  if (holds.holdBecause) {
    parts.push(`hold: ${holds.holdBecause} (lag ${count(lag)} ignored, no scale-in)`)
  } else if (backlog > 0) {
    drainNeed = backlog / (perReplica * config.lagDrainTargetSeconds)
    parts.push(`backlog ${count(backlog)} drains in ${config.lagDrainTargetSeconds}s with +${num(drainNeed)}`)
  }
  return {
    replicas: rateNeed + riseNeed + drainNeed,
    rateNeed,
    arrivalNeed: rateNeed + riseNeed,
    perReplica,
    rateKnown: estimate.rate.lowerBound !== true,
    known: estimate.known,
    parts
  }
}

/** Step 3, whole replicas: partition-aware, capped at the partition (or task) count. */
function wholeReplicas(s: Situation, need: number, parts: string[]): ReplicaCount {
  const { config, partitions } = s
  const sized = replicasFor(need, partitions, config.partitionAwareRounding)
  parts.push(`need ${num(need)} -> ${sized.replicas}`)
  const unit = s.signals.partitionCountUnit ?? 'partitions'
  if (sized.capped) parts.push(`capped at ${partitions} ${unit}`)
  else if (sized.replicas > Math.ceil(need - 1e-9) && config.partitionAwareRounding) {
    parts.push(`(${partitions} ${unit}: at most ${sized.partitionsPerReplica} per replica)`)
  }
  return sized
}

/** Step 4, hysteresis: scale in only to a count that keeps `tolerance` headroom; then within min / max. */
function withHeadroom(s: Situation, need: number, sized: ReplicaCount, parts: string[]): number {
  const { config, current } = s
  let candidate = sized.replicas
  if (candidate < current) {
    const headroom = replicasFor(need * (1 + config.tolerance), s.partitions, config.partitionAwareRounding).replicas
    candidate = Math.min(current, headroom)
    if (candidate === current)
      parts.push(`keeping ${current}: ${headroom} needed with ${pct(config.tolerance)} headroom`)
  }
  const bounded = Math.min(Math.max(candidate, s.activeFloor), s.ceiling)
  if (bounded !== candidate) parts.push(`bounded to ${bounded} (min ${config.minReplicas}, max ${s.ceiling})`)
  return bounded
}

/** Step 7, only counts the HPA will apply (its tolerance band): the next one it reaches when scaling out, else hold. */
function countHpaApplies(s: Situation, replicas: number, parts: string[]): number {
  const { config, current, partitions } = s
  if (!(config.hpaTolerance > 0 && replicas !== current && current > 0)) return replicas
  const hpa: HpaModel = {
    tolerance: config.hpaTolerance,
    minReplicas: s.activeFloor,
    maxReplicas: config.maxReplicas,
    ...(config.hpaScaleDownLimit !== undefined ? { scaleDownLimit: config.hpaScaleDownLimit } : {})
  }
  if (hpaCanReach(current, replicas, hpa)) return replicas
  let reachable: number | null = null
  if (replicas > current) {
    for (let r = replicas + 1; r <= config.maxReplicas && reachable === null; r++) {
      if (hpaCanReach(current, r, hpa)) reachable = r
    }
  } else {
    // Scaling in further than the HPA's scale-down pod limit lets it: the lowest count on the way it does apply.
    for (let r = replicas + 1; r < current && reachable === null; r++) {
      if (hpaCanReach(current, r, hpa)) reachable = r
    }
  }
  parts.push(
    `HPA tolerance ${config.hpaTolerance} ignores ${current} -> ${replicas}; ` +
      (reachable === null
        ? `holding ${current}`
        : `asking ${reachable}${reachable > partitions ? ` (${reachable - partitions} idle)` : ''}`)
  )
  return reachable ?? current
}
