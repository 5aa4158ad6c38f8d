export {
  parseScalingPolicyConfig,
  type ScalingPolicyConfig,
  type ScalingPolicyConfigInput,
  scalingPolicyConfigSchema
} from './config.ts'
export { decideReplicas, type ScalingDecision } from './decide.ts'
export { ScalingSignalsError } from './errors.ts'
export {
  type HpaModel,
  hpaCanReach,
  hpaReplicasForAverageValue,
  type KedaMetric,
  kedaMetricValue
} from './hpa-arithmetic.ts'
export { estimatePerReplicaRate, type PerReplicaRate } from './per-replica-rate.ts'
export {
  addSample,
  type CounterSample,
  createRateEstimator,
  createRateWindow,
  type RateWindow,
  ratePerSecond,
  riseFastRate
} from './rate-window.ts'
export { type ReplicaCount, replicasFor } from './replica-count.ts'
export {
  type InstanceSelfReport,
  type PartitionLag,
  partitionCountOf,
  type ScalingSignals,
  totalLag,
  validateSignals
} from './signals.ts'
export { initialPolicyState, type PolicyState, type Recommendation } from './state.ts'
