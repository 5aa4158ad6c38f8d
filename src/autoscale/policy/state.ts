/**
 * What the policy remembers between decisions. A plain immutable value: the caller keeps it (per ScaledObject, per
 * simulated controller) and hands it back, so the policy itself stays a pure function.
 */
export interface Recommendation {
  atMs: number
  replicas: number
}

export interface PolicyState {
  /** Unstabilized recommendations within the longer stabilization window, oldest first. */
  readonly history: readonly Recommendation[]
  /** Since when the group has had no arrivals and no lag; null while it has work. */
  readonly idleSinceMs: number | null
  /**
   * Records per second one replica was last seen to process when it was busy: the self-reported true rate, or the
   * commit rate per replica measured while a backlog kept every replica working. Lets the policy size the group when
   * no replica is busy (commit rate then only shows the arrival rate) or none is running.
   */
  readonly knownRatePerReplica: number | null
  /** The last decision, for the reason text and for noticing scale-outs still taking effect. */
  readonly lastReplicas: number | null
  /**
   * Arrival rates seen before (`older` at least 15 s ago), to notice a rise however often decisions come. This field
   * and the ones below are optional: states kept by an older version lack them.
   */
  readonly arrivalSamples?: {
    readonly older: { readonly atMs: number; readonly rate: number } | null
    readonly newer: { readonly atMs: number; readonly rate: number }
  } | null
  /** When recent bursts started (burst memory, `burstHoldMaxSeconds`), oldest first. */
  readonly burstStartsMs?: readonly number[]
}

export function initialPolicyState(): PolicyState {
  return {
    history: [],
    idleSinceMs: null,
    knownRatePerReplica: null,
    lastReplicas: null,
    arrivalSamples: null,
    burstStartsMs: []
  }
}

/** Adds a recommendation and drops those older than `keepMs`; recommendations at the same time replace each other. */
export function recordRecommendation(
  history: readonly Recommendation[],
  recommendation: Recommendation,
  keepMs: number
): Recommendation[] {
  const cutoff = recommendation.atMs - keepMs
  const kept = history.filter((r) => r.atMs >= cutoff && r.atMs !== recommendation.atMs)
  kept.push(recommendation)
  return kept
}

/**
 * The HPA's stabilization rule applied to our own recommendations: scale out only to the lowest count recommended
 * throughout the scale-out window, scale in only to the highest count recommended throughout the scale-in window.
 * `history` must already include the current recommendation.
 */
export function stabilize(
  history: readonly Recommendation[],
  nowMs: number,
  currentReplicas: number,
  scaleOutWindowMs: number,
  scaleInWindowMs: number
): number {
  let up = Number.POSITIVE_INFINITY
  let down = Number.NEGATIVE_INFINITY
  for (const r of history) {
    if (r.atMs >= nowMs - scaleOutWindowMs) up = Math.min(up, r.replicas)
    if (r.atMs >= nowMs - scaleInWindowMs) down = Math.max(down, r.replicas)
  }
  let stabilized = currentReplicas
  if (Number.isFinite(up) && stabilized < up) stabilized = up
  if (Number.isFinite(down) && stabilized > down) stabilized = down
  return stabilized
}
