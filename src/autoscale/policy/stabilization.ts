import { burstHold, burstsRecur, recordBurst } from './arrival-memory.ts'
import { count } from './reason-text.ts'
import { replicasFor } from './replica-count.ts'
import { type Need, PARTIAL_STEP_COST, type Situation } from './situation.ts'
import { type Recommendation, stabilize } from './state.ts'

/** Step 6 of decideReplicas: stabilization windows over the recommendation history, and the scale-in step. */

/**
 * Step 6, the scale-in stabilization window: none for an idle group with `minReplicas` 0, stretched by burst memory
 * to the gaps seen between bursts. Also records whether a burst starts now.
 */
export function scaleInWindow(
  s: Situation,
  need: Need & { held?: undefined },
  rising: boolean,
  candidate: number,
  parts: string[]
): { ms: number; burstStartsMs: number[]; recurring: boolean } {
  const { config, baseline, now, partitions } = s
  // Burst memory: a burst starts when arrivals rise so that they alone need more replicas than 15-30 s before
  // (whether or not the replicas kept from the last burst absorb it), or so that the group scales out (the rate
  // estimate may be too rough to tell the two needs apart: both capped at the partition count).
  const burstStarts =
    rising &&
    baseline !== null &&
    (candidate > s.current ||
      replicasFor(need.rateNeed, partitions, config.partitionAwareRounding).replicas >
        replicasFor(baseline.rate / need.perReplica, partitions, config.partitionAwareRounding).replicas)
  const burstStartsMs = recordBurst(s.state.burstStartsMs ?? [], burstStarts, now, config)
  let ms = config.scaleInStabilizationSeconds * 1000
  const idleSeconds = s.idleSinceMs === null ? 0 : (now - s.idleSinceMs) / 1000
  const idleWalk = config.minReplicas === 0 && s.idle && idleSeconds >= config.idleScaleInAfterSeconds
  if (idleWalk) {
    // Idle with minReplicas 0: the group goes to zero after scaleToZeroAfterSeconds anyway. Holding burst-sized
    // capacity until then saves no rebalance (zero is one step from any count) and costs replicas.
    ms = 0
    parts.push(`idle ${count(idleSeconds)}s (minReplicas 0): scale-in does not wait for stabilization`)
  } else {
    const burstHoldMs = burstHold(burstStartsMs, config)
    if (burstHoldMs > ms) {
      ms = burstHoldMs
      parts.push(`burst memory: bursts up to ${count(burstHoldMs / 1000)}s apart, scale-in waits as long`)
    }
  }
  return { ms, burstStartsMs, recurring: burstsRecur(burstStartsMs, now) }
}

/** Step 6, stabilization windows over the recommendation history. */
export function stabilized(
  s: Situation,
  history: readonly Recommendation[],
  candidate: number,
  window: { ms: number; recurring: boolean },
  parts: string[]
): number {
  const { config, current } = s
  const scaleInWindowMs = window.ms
  const replicas = stabilize(history, s.now, current, config.scaleOutStabilizationSeconds * 1000, scaleInWindowMs)
  if (replicas > candidate && replicas <= current) {
    const step = scaleInStep(s, history, candidate, replicas, window)
    if (step.why !== null) {
      parts.push(step.why)
      return step.replicas
    }
  }
  if (replicas !== candidate) {
    parts.push(
      replicas > candidate
        ? `scale-in held by ${count(scaleInWindowMs / 1000)}s stabilization (recent high ${replicas})`
        : `scale-out held by ${config.scaleOutStabilizationSeconds}s stabilization`
    )
  }
  return replicas
}

/**
 * Step 6, how far to scale in: large steps wait less, and no staircase.
 *
 * Every scale-in step is a rebalance, and the window is what the policy pays (in replicas kept) to be sure one is
 * worth it: a full step (standbyReplicas + 1 pods) waits one window, so a rebalance is worth `window x fullStep`
 * pod-seconds. A step that frees more pods pays that back sooner, so removing k pods waits `window x fullStep / k`
 * (10 pods after a burst, one standby: 60 s instead of 300 s). Not with burst memory: its window is a forecast of the
 * next burst, not a price. And when a lower count becomes allowed so soon that keeping the extra pods until then costs
 * at most half a rebalance's worth, the policy waits for it and takes one step, not two (a burst leaves
 * recommendations of 12, then 6 as it fades, then 1: 12 -> 1, not 12 -> 6 -> 1).
 *
 * `standard` is what the plain window allows. Returns `why: null` when the plain window's answer stands.
 */
function scaleInStep(
  s: Situation,
  history: readonly Recommendation[],
  candidate: number,
  standard: number,
  window: { ms: number; recurring: boolean }
): { replicas: number; why: string | null } {
  const { config, current, now } = s
  const windowMs = window.ms
  const fullStep = (s.self.standbyReplicas ?? config.standbyReplicas) + 1
  const budget = windowMs * fullStep
  // Recurring bursts (or burst memory's longer window) make the window a forecast of the next burst, not a price.
  const forecast = window.recurring || windowMs > config.scaleInStabilizationSeconds * 1000
  const windowFor = (replicas: number) =>
    forecast || current - replicas <= fullStep ? windowMs : budget / (current - replicas)
  /** When a count is allowed: once every higher recommendation is older than the window for that step. */
  const allowedAt = (replicas: number) => {
    let lastAbove = Number.NEGATIVE_INFINITY
    for (const r of history) if (r.replicas > replicas) lastAbove = Math.max(lastAbove, r.atMs)
    return lastAbove + windowFor(replicas)
  }
  let target = standard
  for (let r = candidate; r < standard; r++) {
    if (allowedAt(r) <= now) {
      target = r
      break
    }
  }
  if (target >= current) return { replicas: current, why: null }
  for (let r = candidate; r < target; r++) {
    const waitMs = allowedAt(r) - now
    if ((current - target) * waitMs <= budget / 2) {
      return {
        replicas: current,
        why: `${current} -> ${r} is allowed in ${count(waitMs / 1000)}s: one step then, not ${current} -> ${target} now`
      }
    }
  }
  if (target === standard) return { replicas: target, why: null }
  return {
    replicas: target,
    why: `a step of ${current - target} pods waits ${count(windowFor(target) / 1000)}s (window x ${fullStep} / ${current - target})`
  }
}

/**
 * Step 6, the scale-in step. With a known per-replica rate the stabilized count is what the need (with its
 * hysteresis) allows after a whole quiet window, so the group goes there in one step: one rebalance for the whole
 * scale-in, where walking down pod by pod after a burst costs one per pod. With only a lower bound of the rate (commit
 * rates of replicas that were not busy) the need may be overstated, so a step removes at most standbyReplicas + 1
 * pods. Either way, a step smaller than a full step (standbyReplicas + 1) waits longer.
 */
export function limitScaleInStep(
  s: Situation,
  stable: number,
  history: readonly Recommendation[],
  scaleInWindowMs: number,
  rateKnown: boolean,
  parts: string[]
): number {
  const { config, current, partitions, now } = s
  let replicas = stable
  const standby = s.self.standbyReplicas ?? config.standbyReplicas
  const fullStep = standby + 1
  if (replicas < current && !rateKnown) {
    // Replicas beyond the partition count own nothing, so removing them hands nothing over.
    const lowest = Math.min(current - fullStep, Math.max(partitions, s.activeFloor))
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
    const waitMs = Math.min((windowMs * PARTIAL_STEP_COST * fullStep) / step, s.keepMs - windowMs)
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
  return replicas
}
