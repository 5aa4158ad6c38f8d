import type { KedaMetric } from '../policy/hpa-arithmetic.ts'
import type { GroupSignals } from '../signals/types.ts'
import type { PolicyTargets } from './trigger-metadata.ts'

/** One decision of the scaling policy: how many replicas, why (which signal, which numbers), and the state to keep. */
export interface ScalingDecision {
  replicas: number
  reason: string
  state: unknown
}

/**
 * What the KEDA service needs from the scaling policy. The policy itself is pure and lives in src/autoscale/policy/;
 * policy-adapter.ts binds it to this shape so the transports never depend on its signal layout. `state` is opaque
 * here: the service only keeps it per ScaledObject and hands it back.
 */
export interface ScalingPolicy {
  /** GetMetricSpec's target: constant, because KEDA caches the spec on the HPA. */
  readonly targetSize: number
  decide(signals: GroupSignals, targets: PolicyTargets, state: unknown, currentReplicas: number): ScalingDecision
  /** The metric that makes the HPA go from `currentReplicas` to exactly `replicas` (or says it cannot). */
  metric(replicas: number, currentReplicas: number, targets: PolicyTargets): KedaMetric
}
