/**
 * The arithmetic between a KEDA external metric and the replica count the Kubernetes HPA sets, so the scaler can
 * report a value that lands exactly on the policy's decision.
 *
 * KEDA turns the scaler's float metric and target into milli-quantities (int64(value * 1000)); for an AverageValue
 * target the HPA then computes, with `current` the replicas the scale target has now:
 *
 *   ratio   = metricMilli / (targetMilli * current)
 *   desired = current                            if (1 - toleranceDown) <= ratio <= (1 + toleranceUp)
 *           = ceil(metricMilli / targetMilli)      otherwise
 *   desired = clamp(desired, minReplicas, maxReplicas)
 *
 * (kubernetes pkg/controller/podautoscaler/replica_calculator.go, GetExternalPerPodMetricReplicas; the tolerance is
 * 0.1 both ways unless the cluster or the HPA's behavior sets it.) Reporting metric = replicas * target therefore
 * lands on `replicas` whenever the change is larger than the tolerance. A change within it (10 -> 11 at 10%) is
 * impossible with any metric: every value whose ceiling is 11 has a ratio within 1.1. Two things can still land there
 * from inside the band, by overshooting past them and letting the HPA stop on them: the bounds (min/max clamp), and
 * a scale-down rate limit (`behavior.scaleDown.policies: [{type: Pods, value: N, periodSeconds: 15}]` stops an
 * overshooting scale-in at exactly current - N). The policy asks only for counts `hpaCanReach` accepts (see
 * decide.ts), and `kedaMetricValue` picks the metric that gets there.
 */

export interface HpaModel {
  /** The HPA's tolerance (both directions unless `toleranceDown` is given). */
  tolerance: number
  toleranceDown?: number
  /** The HPA's minReplicas (KEDA sets it to max(1, minReplicaCount)). */
  minReplicas: number
  /** The HPA's maxReplicas (the ScaledObject's maxReplicaCount). */
  maxReplicas: number
  /**
   * Most pods one HPA sync removes, when the ScaledObject's behavior has a `Pods` scale-down policy with a 15 s period
   * (and no other policy allowing more). Absent: the Kubernetes default, which removes any number at once.
   */
  scaleDownLimit?: number
}

/** KEDA's float-to-quantity conversion: int64(value * 1000) truncates. */
function milli(value: number): number {
  return Math.trunc(value * 1000)
}

/**
 * Replicas the HPA sets for an External metric with an AverageValue target, with min/max and the optional scale-down
 * pod limit, assuming no stabilization window holds it back (the policy stabilizes itself; the ScaledObject sets the
 * HPA's windows to 0) and no scale-up rate limit splits the step (the default +100% / +4 pods per 15 s only delays
 * a large step: the metric stays the same, so the next syncs finish it). `currentReplicas` must be at least 1: at 0
 * the HPA does nothing and KEDA activates.
 */
export function hpaReplicasForAverageValue(args: {
  metricValue: number
  targetAverageValue: number
  currentReplicas: number
  hpa: HpaModel
}): number {
  const { metricValue, targetAverageValue, currentReplicas, hpa } = args
  if (currentReplicas < 1) throw new RangeError('the HPA does not act on a target scaled to zero')
  const usage = milli(metricValue)
  const target = milli(targetAverageValue)
  if (target <= 0) throw new RangeError(`target average value must be at least 0.001, got ${targetAverageValue}`)
  const ratio = usage / (target * currentReplicas)
  const up = hpa.tolerance
  const down = hpa.toleranceDown ?? hpa.tolerance
  const within = 1 - down <= ratio && ratio <= 1 + up
  let desired = within ? currentReplicas : Math.ceil(usage / target)
  if (hpa.scaleDownLimit !== undefined && desired < currentReplicas) {
    desired = Math.max(desired, currentReplicas - hpa.scaleDownLimit)
  }
  return Math.min(Math.max(desired, hpa.minReplicas), hpa.maxReplicas)
}

export interface KedaMetric {
  /** GetMetrics' metricValueFloat. */
  metricValue: number
  /** GetMetricSpec's targetSizeFloat. */
  target: number
  /** IsActive: false lets KEDA take the target to zero (after its cooldownPeriod). */
  active: boolean
  /**
   * Replicas the HPA will set from this metric; equals the requested count unless `exact` is false, or the request
   * is zero (the HPA holds, KEDA takes the target to zero).
   */
  hpaReplicas: number
  /** True when the HPA lands exactly on the requested count. */
  exact: boolean
}

/**
 * The metric to report so the HPA goes from `currentReplicas` to exactly `replicas`. With target 1 the metric is
 * normally the replica count itself; inside the HPA's tolerance band it overshoots past a bound so the clamp lands on
 * it; where no value can work (a step inside the band that is not a bound) it reports the plain count and says so
 * with `exact: false`, and the HPA keeps `currentReplicas`.
 */
export function kedaMetricValue(args: {
  replicas: number
  currentReplicas: number
  hpa: HpaModel
  target?: number
}): KedaMetric {
  const { replicas, currentReplicas, hpa } = args
  const target = args.target ?? 1
  // To zero: KEDA scales the target to zero once IsActive says false (and its cooldownPeriod has passed); until then
  // the HPA keeps reading the metric. A metric of 0 would make it scale in to minReplicas first (a rebalance, and a
  // scale-in step the policy never chose), so the metric holds the current count and the drop is one step.
  if (replicas === 0) {
    return { metricValue: currentReplicas * target, target, active: false, hpaReplicas: currentReplicas, exact: true }
  }
  const plain = replicas * target
  // From zero KEDA activates the target (to one, or minReplicaCount) and the HPA takes over on its next sync.
  if (currentReplicas === 0) return { metricValue: plain, target, active: true, hpaReplicas: replicas, exact: true }
  const lands = (metricValue: number) =>
    hpaReplicasForAverageValue({ metricValue, targetAverageValue: target, currentReplicas, hpa }) === replicas
  if (lands(plain)) return { metricValue: plain, target, active: true, hpaReplicas: replicas, exact: true }
  // Overshoot: past maxReplicas going up, below minReplicas going down. The nearest working value is the least
  // surprising number to see in `kubectl get hpa`.
  if (replicas > currentReplicas) {
    const limit = Math.ceil(currentReplicas * (1 + hpa.tolerance)) + 2
    for (let k = replicas + 1; k <= Math.max(limit, replicas + 1); k++) {
      if (lands(k * target))
        return { metricValue: k * target, target, active: true, hpaReplicas: replicas, exact: true }
    }
  } else {
    for (let k = replicas - 1; k >= 0; k--) {
      if (lands(k * target))
        return { metricValue: k * target, target, active: true, hpaReplicas: replicas, exact: true }
    }
  }
  const hpaReplicas = hpaReplicasForAverageValue({
    metricValue: plain,
    targetAverageValue: target,
    currentReplicas,
    hpa
  })
  return { metricValue: plain, target, active: true, hpaReplicas, exact: false }
}

/** Whether some metric value moves the HPA from `currentReplicas` to exactly `replicas`. */
export function hpaCanReach(currentReplicas: number, replicas: number, hpa: HpaModel): boolean {
  if (replicas === currentReplicas || replicas === 0 || currentReplicas === 0) return true
  if (replicas < hpa.minReplicas || replicas > hpa.maxReplicas) return false
  return kedaMetricValue({ replicas, currentReplicas, hpa }).exact
}
