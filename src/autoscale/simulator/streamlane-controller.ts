import type { ScalingPolicyConfig } from '../policy/config.ts'
import { decideReplicas, type ScalingDecision } from '../policy/decide.ts'
import { hpaReplicasForAverageValue, kedaMetricValue } from '../policy/hpa-arithmetic.ts'
import { addSample, createRateWindow, type RateWindow, ratePerSecond, riseFastRate } from '../policy/rate-window.ts'
import type { ScalingSignals } from '../policy/signals.ts'
import { initialPolicyState, type PolicyState } from '../policy/state.ts'
import { type Cluster, committedLags, membersOf, podCapacity, processable, setReplicas } from './cluster.ts'
import type { Controller } from './controller.ts'
import { cooperativeProtocol } from './cooperative-protocol.ts'
import { HPA_SYNC_SECONDS, type HpaSpec, hpaReconcile, initialHpaState } from './hpa.ts'

export interface StreamlaneSettings {
  policy: ScalingPolicyConfig
  /** Sliding window of the arrival and commit rates. */
  rateWindowSeconds: number
  /** A shorter arrival window; the reported arrival rate is the higher of the two (see riseFastRate). */
  fastRateWindowSeconds: number
  /** KEDA's pollingInterval for the 0 <-> 1 step (IsActive). */
  pollingIntervalSeconds: number
  /** KEDA's cooldownPeriod; 0 because the policy's scaleToZeroAfterSeconds already waited. */
  cooldownPeriodSeconds: number
  hpaTolerance: number
  /** Sees every decision with its reason (the CLI's --explain, tests). */
  onDecision?: (t: number, decision: ScalingDecision) => void
}

/**
 * Streamlane's policy carried by KEDA as an external scaler, the way it is deployed: the HPA polls every 15 s and
 * the scaler answers with `kedaMetricValue` of the policy's decision (target 1), so the HPA lands on it. The
 * ScaledObject sets the HPA's scale-down stabilization to 0 (the policy stabilizes itself) and cooldownPeriod to 0
 * (the policy waits its own idle period); scale-up keeps the HPA's default rate limit. KEDA still does 0 <-> 1 on its
 * pollingInterval. The app runs Streamlane's cooperative protocol with warm-ups and reports its true processing rate,
 * rebalance, restoration and warm-up progress.
 */
export function streamlaneController(settings: StreamlaneSettings, initialReplicas: number): Controller {
  const hpa: HpaSpec = {
    minReplicas: Math.max(1, settings.policy.minReplicas),
    maxReplicas: settings.policy.maxReplicas,
    // The policy sizes its own steps, so the HPA applies them in one sync instead of +100% / +4 pods at a time.
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [{ type: 'Pods', value: settings.policy.maxReplicas, periodSeconds: HPA_SYNC_SECONDS }]
    },
    // As docs/keda.md recommends: no HPA scale-down window (the policy has its own) and the default rate (any
    // number of pods per sync), so a scale-in the policy decided in one step is one step.
    scaleDown: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: HPA_SYNC_SECONDS }]
    }
  }
  const hpaState = initialHpaState(initialReplicas)
  const windowMs = settings.rateWindowSeconds * 1000
  let arrivals: RateWindow = createRateWindow(windowMs)
  let recentArrivals: RateWindow = createRateWindow(settings.fastRateWindowSeconds * 1000)
  let commits: RateWindow = createRateWindow(windowMs)
  let policyState: PolicyState = initialPolicyState()
  let decided: number | null = null
  let lastActive = 0
  let lastBusyAt = Number.NEGATIVE_INFINITY

  function signals(cluster: Cluster): ScalingSignals {
    const lags = committedLags(cluster)
    const members = membersOf(cluster, ['member', 'leaving'])
    const processing = members.filter((pod) =>
      cluster.owner.some((owner, p) => owner === pod.id && processable(cluster, p))
    ).length
    const restoring = cluster.owner.some((owner, p) => owner !== null && cluster.t < cluster.restoringUntil[p]!)
    // DS2's true rate: records per second of busy time, where keeping standbys current counts as busy (it is not
    // idle time a replica could spend on more records). In the fluid model a busy replica runs at its capacity.
    const recentlyBusy = cluster.t - lastBusyAt <= settings.rateWindowSeconds
    const arrivalNow = ratePerSecond(arrivals) ?? 0
    const capacities = members.map((pod) => podCapacity(cluster, pod, arrivalNow))
    const trueRate = capacities.length > 0 ? capacities.reduce((a, b) => a + b, 0) / capacities.length : 0
    return {
      atMs: cluster.t * 1000,
      partitions: lags.map((lag, p) => ({
        topic: 'input',
        partition: p,
        endOffset: Math.floor(cluster.endOffset[p]!),
        committedOffset: Math.floor(cluster.committed[p]!),
        lag
      })),
      arrivalRate: riseFastRate(ratePerSecond(arrivals), ratePerSecond(recentArrivals)),
      commitRate: ratePerSecond(commits),
      currentReplicas: cluster.specReplicas,
      processingReplicas: Math.min(processing, cluster.specReplicas),
      instances: {
        ...(recentlyBusy && trueRate > 0 ? { trueRatePerReplica: trueRate } : {}),
        rebalanceInProgress: cluster.protocol.rebalanceInProgress(cluster),
        restorationInProgress: restoring,
        ...(cluster.protocol.warmupProgress(cluster) !== undefined
          ? { warmupProgress: cluster.protocol.warmupProgress(cluster)! }
          : {}),
        standbyReplicas: cluster.protocol.caughtUpStandbys?.(cluster) ?? 0
      }
    }
  }

  return {
    name: 'Streamlane policy (external scaler) + HPA',
    createProtocol: () => cooperativeProtocol(settings.policy.standbyReplicas),
    step(cluster: Cluster) {
      const t = cluster.t
      const atMs = t * 1000
      const appended = cluster.endOffset.reduce((a, b) => a + Math.floor(b), 0)
      arrivals = addSample(arrivals, { atMs, value: appended })
      recentArrivals = addSample(recentArrivals, { atMs, value: appended })
      commits = addSample(commits, { atMs, value: cluster.committed.reduce((a, b) => a + Math.floor(b), 0) })
      if (cluster.pods.some((pod) => pod.processedThisSecond > 0)) lastBusyAt = t

      if (t > 0 && t % HPA_SYNC_SECONDS === 0) {
        const decision = decideReplicas(signals(cluster), settings.policy, policyState)
        policyState = decision.state
        settings.onDecision?.(t, decision)
        decided = decision.replicas
      }
      if (t > 0 && t % settings.pollingIntervalSeconds === 0 && decided !== null) {
        if (decided > 0) {
          lastActive = t
          if (cluster.specReplicas === 0) setReplicas(cluster, Math.max(1, settings.policy.minReplicas))
        } else if (cluster.specReplicas > 0 && lastActive + settings.cooldownPeriodSeconds < t) {
          setReplicas(cluster, 0)
        }
      }
      if (t > 0 && t % HPA_SYNC_SECONDS === 0 && cluster.specReplicas > 0 && decided !== null) {
        const hpaModel = {
          tolerance: settings.hpaTolerance,
          minReplicas: hpa.minReplicas,
          maxReplicas: hpa.maxReplicas,
          ...(settings.policy.hpaScaleDownLimit !== undefined
            ? { scaleDownLimit: settings.policy.hpaScaleDownLimit }
            : {})
        }
        const metric = kedaMetricValue({ replicas: decided, currentReplicas: cluster.specReplicas, hpa: hpaModel })
        const proposal = hpaReplicasForAverageValue({
          metricValue: metric.metricValue,
          targetAverageValue: metric.target,
          currentReplicas: cluster.specReplicas,
          hpa: { tolerance: settings.hpaTolerance, minReplicas: 0, maxReplicas: Number.POSITIVE_INFINITY }
        })
        setReplicas(cluster, hpaReconcile(hpa, hpaState, t, cluster.specReplicas, proposal))
      }
    }
  }
}
