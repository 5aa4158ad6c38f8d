import { burstHold, recordBurst } from './arrival-memory.ts'
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
  parts: string[]
): { ms: number; burstStartsMs: number[] } {
  const { config, baseline, now, partitions } = s
  // Burst memory: a burst starts when arrivals rise so that they alone need more replicas than 15-30 s before
  // (whether or not the replicas kept from the last burst absorb it).
  const burstStarts =
    rising &&
    baseline !== null &&
    replicasFor(need.rateNeed, partitions, config.partitionAwareRounding).replicas >
      replicasFor(baseline.rate / need.perReplica, partitions, config.partitionAwareRounding).replicas
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
  return { ms, burstStartsMs }
}

/** Step 6, stabilization windows over the recommendation history. */
export function stabilized(
  s: Situation,
  history: readonly Recommendation[],
  candidate: number,
  scaleInWindowMs: number,
  parts: string[]
): number {
  const { config } = s
  const replicas = stabilize(history, s.now, s.current, config.scaleOutStabilizationSeconds * 1000, scaleInWindowMs)
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
