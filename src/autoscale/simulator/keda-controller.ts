import { hpaReplicasForAverageValue } from '../policy/hpa-arithmetic.ts'
import { type Cluster, committedLags, setReplicas } from './cluster.ts'
import type { Controller } from './controller.ts'
import { eagerProtocol } from './eager-protocol.ts'
import {
  DEFAULT_SCALE_DOWN,
  DEFAULT_SCALE_UP,
  HPA_SYNC_SECONDS,
  type HpaSpec,
  hpaReconcile,
  initialHpaState
} from './hpa.ts'

/** A ScaledObject with KEDA's built-in `kafka` trigger; defaults are KEDA's own except `lagThreshold`. */
export interface KedaKafkaSettings {
  lagThreshold: number
  activationLagThreshold: number
  allowIdleConsumers: boolean
  pollingIntervalSeconds: number
  cooldownPeriodSeconds: number
  minReplicaCount: number
  maxReplicaCount: number
  /** The HPA's tolerance (kube-controller-manager default 0.1). */
  hpaTolerance: number
}

export const KEDA_DEFAULTS: Omit<KedaKafkaSettings, 'lagThreshold' | 'maxReplicaCount'> = {
  activationLagThreshold: 0,
  allowIdleConsumers: false,
  pollingIntervalSeconds: 30,
  cooldownPeriodSeconds: 300,
  minReplicaCount: 0,
  hpaTolerance: 0.1
}

/**
 * KEDA's Kafka scaler driving the HPA, as kedacore/keda implements it (see shared/research/keda.md):
 *  - metric = sum of partition lags (end - committed), capped at lagThreshold * partitions unless allowIdleConsumers
 *    (integer division, as the Go code does);
 *  - KEDA itself polls every pollingInterval: active when lag > activationLagThreshold; 0 -> 1 when active; to 0
 *    after cooldownPeriod without activity (minReplicaCount 0);
 *  - the HPA every 15 s: AverageValue target lagThreshold, 10% tolerance, default behavior (scale up +100% or +4 pods
 *    per 15 s, scale down after a 300 s stabilization window), min max(1, minReplicaCount), max maxReplicaCount.
 * The app is a plain consumer: eager rebalancing, and restoring pods count as replicas like any other.
 */
export function kedaController(settings: KedaKafkaSettings, initialReplicas: number): Controller {
  const hpa: HpaSpec = {
    minReplicas: Math.max(1, settings.minReplicaCount),
    maxReplicas: settings.maxReplicaCount,
    scaleUp: DEFAULT_SCALE_UP,
    scaleDown: DEFAULT_SCALE_DOWN
  }
  const hpaState = initialHpaState(initialReplicas)
  let lastActive = 0

  function metric(cluster: Cluster): number {
    const lags = committedLags(cluster)
    let total = lags.reduce((a, b) => a + b, 0)
    const partitions = lags.length
    if (!settings.allowIdleConsumers && Math.floor(total / settings.lagThreshold) > partitions) {
      total = partitions * settings.lagThreshold
    }
    return total
  }

  return {
    name: 'KEDA kafka scaler + HPA',
    createProtocol: eagerProtocol,
    step(cluster: Cluster) {
      const t = cluster.t
      if (t > 0 && t % settings.pollingIntervalSeconds === 0) {
        const active = metric(cluster) > settings.activationLagThreshold
        if (active) {
          lastActive = t
          if (cluster.specReplicas === 0) setReplicas(cluster, Math.max(1, settings.minReplicaCount))
        } else if (
          cluster.specReplicas > 0 &&
          settings.minReplicaCount === 0 &&
          lastActive + settings.cooldownPeriodSeconds < t
        ) {
          setReplicas(cluster, 0)
        }
      }
      if (t > 0 && t % HPA_SYNC_SECONDS === 0 && cluster.specReplicas > 0) {
        const proposal = hpaReplicasForAverageValue({
          metricValue: metric(cluster),
          targetAverageValue: settings.lagThreshold,
          currentReplicas: cluster.specReplicas,
          hpa: { tolerance: settings.hpaTolerance, minReplicas: 0, maxReplicas: Number.POSITIVE_INFINITY }
        })
        setReplicas(cluster, hpaReconcile(hpa, hpaState, t, cluster.specReplicas, proposal))
      }
    }
  }
}
