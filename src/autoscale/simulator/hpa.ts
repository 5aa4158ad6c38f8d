/**
 * The Kubernetes HorizontalPodAutoscaler's decision loop after the metric has produced a proposal: stabilization
 * windows over past proposals, then the behavior's rate limits, then min/max
 * (pkg/controller/podautoscaler/horizontal.go: stabilizeRecommendationWithBehaviors,
 * convertDesiredReplicasWithBehaviorRate, calculateScaleUp/DownLimitWithScalingRules). Time is in seconds.
 */
export interface HpaScalingPolicy {
  type: 'Pods' | 'Percent'
  value: number
  periodSeconds: number
}

export interface HpaScalingRules {
  stabilizationWindowSeconds: number
  selectPolicy: 'Max' | 'Min' | 'Disabled'
  policies: HpaScalingPolicy[]
}

export interface HpaSpec {
  minReplicas: number
  maxReplicas: number
  scaleUp: HpaScalingRules
  scaleDown: HpaScalingRules
}

/** Kubernetes' defaults: scale up at once by +100% or +4 pods per 15 s; scale down after 300 s, any amount. */
export const DEFAULT_SCALE_UP: HpaScalingRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 }
  ]
}

export const DEFAULT_SCALE_DOWN: HpaScalingRules = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }]
}

/** How often the HPA controller reconciles (--horizontal-pod-autoscaler-sync-period). */
export const HPA_SYNC_SECONDS = 15

interface TimedValue {
  t: number
  value: number
}

export interface HpaState {
  recommendations: TimedValue[]
  scaleUpEvents: TimedValue[]
  scaleDownEvents: TimedValue[]
}

/**
 * A fresh controller's memory. `runningReplicas` seeds one recommendation at t = 0 so the simulation starts from an
 * HPA that has been running at that count, not from a newly created one (which would scale down on its first sync).
 */
export function initialHpaState(runningReplicas?: number): HpaState {
  const recommendations = runningReplicas === undefined ? [] : [{ t: 0, value: runningReplicas }]
  return { recommendations, scaleUpEvents: [], scaleDownEvents: [] }
}

/**
 * One reconcile: `proposal` is what the metric asks for (already through the tolerance check), `current` the scale
 * target's replicas. Returns the replicas to set; mutates `state` as the controller's memory.
 */
export function hpaReconcile(spec: HpaSpec, state: HpaState, t: number, current: number, proposal: number): number {
  if (current === 0 && spec.minReplicas !== 0) return 0 // autoscaling disabled at zero; KEDA activates
  let desired: number
  if (current > spec.maxReplicas) desired = spec.maxReplicas
  else if (current < spec.minReplicas) desired = spec.minReplicas
  else {
    const stabilized = stabilizeRecommendation(spec, state, t, current, proposal)
    desired = limitByBehaviorRate(spec, state, t, current, stabilized)
  }
  if (desired > current) state.scaleUpEvents.push({ t, value: desired - current })
  if (desired < current) state.scaleDownEvents.push({ t, value: current - desired })
  const longest = Math.max(...[...spec.scaleUp.policies, ...spec.scaleDown.policies].map((p) => p.periodSeconds), 0)
  state.scaleUpEvents = state.scaleUpEvents.filter((e) => e.t > t - longest)
  state.scaleDownEvents = state.scaleDownEvents.filter((e) => e.t > t - longest)
  return desired
}

function stabilizeRecommendation(spec: HpaSpec, state: HpaState, t: number, current: number, proposal: number): number {
  const upCutoff = t - spec.scaleUp.stabilizationWindowSeconds
  const downCutoff = t - spec.scaleDown.stabilizationWindowSeconds
  let up = proposal
  let down = proposal
  for (const r of state.recommendations) {
    if (r.t > upCutoff) up = Math.min(up, r.value)
    if (r.t > downCutoff) down = Math.max(down, r.value)
  }
  let recommendation = current
  if (recommendation < up) recommendation = up
  if (recommendation > down) recommendation = down
  state.recommendations = state.recommendations.filter((r) => r.t > upCutoff || r.t > downCutoff)
  state.recommendations.push({ t, value: proposal })
  return recommendation
}

function limitByBehaviorRate(spec: HpaSpec, state: HpaState, t: number, current: number, desired: number): number {
  if (desired > current) {
    const limit = Math.max(current, scaleLimit(spec.scaleUp, state, t, current, 'up'))
    return Math.min(desired, spec.maxReplicas, limit)
  }
  if (desired < current) {
    const limit = Math.min(current, scaleLimit(spec.scaleDown, state, t, current, 'down'))
    return Math.max(desired, spec.minReplicas, limit)
  }
  return Math.min(Math.max(desired, spec.minReplicas), spec.maxReplicas)
}

function scaleLimit(
  rules: HpaScalingRules,
  state: HpaState,
  t: number,
  current: number,
  direction: 'up' | 'down'
): number {
  if (rules.selectPolicy === 'Disabled') return current
  // Max picks the policy allowing the largest change: the highest limit going up, the lowest going down.
  const largestChange = rules.selectPolicy === 'Max'
  const pick = (a: number, b: number) => ((direction === 'up') === largestChange ? Math.max(a, b) : Math.min(a, b))
  let result: number | null = null
  for (const policy of rules.policies) {
    const added = changeWithin(state.scaleUpEvents, t, policy.periodSeconds)
    const removed = changeWithin(state.scaleDownEvents, t, policy.periodSeconds)
    const periodStart = current - added + removed
    let proposed: number
    if (direction === 'up') {
      proposed = policy.type === 'Pods' ? periodStart + policy.value : Math.ceil(periodStart * (1 + policy.value / 100))
    } else {
      proposed =
        policy.type === 'Pods' ? periodStart - policy.value : Math.trunc(periodStart * (1 - policy.value / 100))
    }
    result = result === null ? proposed : pick(result, proposed)
  }
  return result ?? current
}

function changeWithin(events: readonly TimedValue[], t: number, periodSeconds: number): number {
  let sum = 0
  for (const e of events) if (e.t > t - periodSeconds) sum += e.value
  return sum
}
