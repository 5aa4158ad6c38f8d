import { decideReplicas } from '../policy/decide.ts'
import { type HpaModel, kedaMetricValue } from '../policy/hpa-arithmetic.ts'
import type { ScalingSignals } from '../policy/signals.ts'
import type { PolicyState } from '../policy/state.ts'
import type { GroupSignals } from '../signals/types.ts'
import type { ScalingPolicy } from './policy-port.ts'
import type { PolicyTargets } from './trigger-metadata.ts'

/** AverageValue target 1: the reported metric reads as "replicas wanted" in `kubectl get hpa`. */
const TARGET_SIZE = 1

/** Binds the collector's GroupSignals to the pure policy's ScalingSignals. */
export function toScalingSignals(signals: GroupSignals, currentReplicas: number): ScalingSignals {
  const { snapshot, rates, instances } = signals
  const processing = snapshot.members.filter((m) => m.assignment.some((a) => a.partitions.length > 0)).length
  const self: NonNullable<ScalingSignals['instances']> = {
    rebalanceInProgress: instances.rebalanceInProgress || isRebalancing(snapshot.state),
    restorationInProgress: instances.restorationInProgress
  }
  if (instances.trueRatePerInstance !== undefined) self.trueRatePerReplica = instances.trueRatePerInstance
  if (instances.inFlightRateBound !== undefined) self.inFlightRateBound = instances.inFlightRateBound
  if (instances.warmupProgress !== undefined) self.warmupProgress = instances.warmupProgress
  if (instances.standbyReplicas !== undefined) self.standbyReplicas = instances.standbyReplicas
  return {
    atMs: snapshot.at,
    partitions: snapshot.partitions,
    // The cap: a Streamlane app's active tasks when its assignment says them, not the sum of its topics' partitions.
    partitionCount: snapshot.tasks.count,
    partitionCountUnit: snapshot.tasks.basis === 'partitions' ? 'partitions' : 'tasks',
    arrivalRate: rates.arrivalRate,
    commitRate: rates.commitRate,
    currentReplicas,
    // Members without partitions are joining (or surplus past the partition count); the policy tells them apart.
    processingReplicas: processing,
    instances: self
  }
}

/**
 * The coordinator's own view of a rebalance: true for any consumer group, Streamlane or not, so the lag a stop-the-
 * world rebalance causes is not read as missing capacity.
 */
function isRebalancing(state: string): boolean {
  return state === 'PreparingRebalance' || state === 'CompletingRebalance'
}

/** The HPA KEDA builds from a ScaledObject whose min/maxReplicaCount match the trigger's minReplicas/maxReplicas. */
export function hpaModelFor(targets: PolicyTargets): HpaModel {
  return {
    tolerance: targets.hpaTolerance,
    minReplicas: Math.max(1, targets.minReplicas),
    maxReplicas: targets.maxReplicas
  }
}

/**
 * A share group (KIP-932) is not capped by its partitions: every member fetches from every partition and the broker
 * hands records out one by one, so replicas are bounded by `maxReplicas` only, and partition-aware rounding (which
 * counts partitions per replica) does not apply.
 */
export function forShareGroup(
  signals: ScalingSignals,
  targets: PolicyTargets
): { signals: ScalingSignals; targets: PolicyTargets } {
  return {
    signals: {
      ...signals,
      partitionCount: Math.max(1, targets.maxReplicas),
      partitionCountUnit: 'share-group replicas'
    },
    targets: { ...targets, partitionAwareRounding: false }
  }
}

export const defaultPolicy: ScalingPolicy = {
  targetSize: TARGET_SIZE,
  decide(signals, targets, state, currentReplicas) {
    const scaling = toScalingSignals(signals, currentReplicas)
    const input =
      signals.snapshot.groupType === 'share' ? forShareGroup(scaling, targets) : { signals: scaling, targets }
    const decision = decideReplicas(input.signals, input.targets, state as PolicyState | undefined)
    return { replicas: decision.replicas, reason: decision.reason, state: decision.state }
  },
  metric(replicas, currentReplicas, targets) {
    return kedaMetricValue({ replicas, currentReplicas, hpa: hpaModelFor(targets), target: TARGET_SIZE })
  }
}
