import { parseScalingPolicyConfig, type ScalingPolicyConfigInput } from '../policy/config.ts'
import { KEDA_DEFAULTS, type KedaKafkaSettings, kedaController } from './keda-controller.ts'
import { runSimulation, type SimulationResult } from './run.ts'
import { DEFAULT_SCENARIO, type SimulationScenario } from './scenario.ts'
import { type StreamlaneSettings, streamlaneController } from './streamlane-controller.ts'
import type { LoadTrace } from './traces.ts'

/**
 * The simulated Streamlane app keeps one standby copy per task (num.standby.replicas=1, the usual production
 * setting). It pays for it: the scenario's standbyCostFraction comes out of every replica's capacity.
 */
export const STREAMLANE_STANDBY_REPLICAS = 1

export interface ComparisonSettings {
  scenario: SimulationScenario
  keda: KedaKafkaSettings
  streamlane: StreamlaneSettings
}

export interface Comparison {
  trace: LoadTrace
  settings: ComparisonSettings
  keda: SimulationResult
  streamlane: SimulationResult
}

/**
 * The policy settings the comparison uses: the defaults, plus what the scenario fixes (max = partitions, the idle
 * period equal to KEDA's cooldownPeriod, in-flight lag = the commit interval).
 */
export function streamlanePolicyFor(scenario: SimulationScenario, overrides: ScalingPolicyConfigInput = {}) {
  return parseScalingPolicyConfig({
    minReplicas: 0,
    maxReplicas: scenario.partitions,
    scaleToZeroAfterSeconds: KEDA_DEFAULTS.cooldownPeriodSeconds,
    normalLagSeconds: scenario.commitIntervalSeconds,
    standbyReplicas: STREAMLANE_STANDBY_REPLICAS,
    ...overrides
  })
}

/**
 * Both controllers configured as fairly as the documentation allows. KEDA gets its defaults except lagThreshold,
 * which has no sensible default (10 records): it is set to what one replica's in-flight commit lag is at full speed
 * (capacity * commitInterval / 2), so that at steady load ceil(lag / lagThreshold) is the rate-based count. That is
 * a well-tuned KEDA; docs/autoscaling.md shows other thresholds too.
 */
export function defaultComparisonSettings(
  scenario: SimulationScenario = DEFAULT_SCENARIO,
  overrides: { lagThreshold?: number; policy?: ScalingPolicyConfigInput } = {}
): ComparisonSettings {
  return {
    scenario,
    keda: {
      ...KEDA_DEFAULTS,
      lagThreshold:
        overrides.lagThreshold ??
        Math.round((scenario.recordsPerSecondPerReplica * scenario.commitIntervalSeconds) / 2),
      maxReplicaCount: scenario.partitions
    },
    streamlane: {
      policy: streamlanePolicyFor(scenario, overrides.policy),
      rateWindowSeconds: 15,
      fastRateWindowSeconds: 5,
      pollingIntervalSeconds: KEDA_DEFAULTS.pollingIntervalSeconds,
      cooldownPeriodSeconds: 0,
      hpaTolerance: KEDA_DEFAULTS.hpaTolerance
    }
  }
}

export function compareControllers(trace: LoadTrace, settings: ComparisonSettings): Comparison {
  return {
    trace,
    settings,
    keda: runSimulation(trace, settings.scenario, kedaController(settings.keda, settings.scenario.initialReplicas)),
    streamlane: runSimulation(
      trace,
      settings.scenario,
      streamlaneController(settings.streamlane, settings.scenario.initialReplicas)
    )
  }
}
