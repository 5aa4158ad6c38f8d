import type { ScalingPolicyConfig } from './config.ts'
import type { ScalingSignals } from './signals.ts'

/** How many records per second one replica can process, and where that number came from (for the reason). */
export interface PerReplicaRate {
  recordsPerSecond: number
  source: string
}

/**
 * The capacity of one replica. In order of trust:
 *  1. the instances' self-reported true rate (records per busy second, DS2): exact whether or not they are busy;
 *  2. `perReplicaRate` from the configuration;
 *  3. the commit rate per processing replica. That is the capacity only while a backlog keeps every replica busy;
 *     otherwise it is the arrival rate spread over the replicas, a lower bound. Sizing by that lower bound would
 *     always return the current count and never scale in, so the policy remembers the rate it last saw while busy
 *     (`known`) and raises it when an idle-ish group still shows a higher rate.
 * During a rebalance or restoration commits stall, so the observation is skipped rather than learnt.
 */
export function estimatePerReplicaRate(args: {
  signals: ScalingSignals
  config: ScalingPolicyConfig
  known: number | null
  backlog: number
  distorted: boolean
}): { rate: PerReplicaRate | null; known: number | null } {
  const { signals, config, known, backlog, distorted } = args
  const trueRate = signals.instances?.trueRatePerReplica
  if (trueRate !== undefined && trueRate > 0) {
    return { rate: { recordsPerSecond: trueRate, source: 'true rate' }, known: trueRate }
  }
  if (config.perReplicaRate !== undefined) {
    return { rate: { recordsPerSecond: config.perReplicaRate, source: 'configured rate' }, known }
  }
  const processing = signals.processingReplicas ?? signals.currentReplicas
  if (!distorted && processing > 0 && signals.commitRate !== null && signals.commitRate > 0) {
    const observed = signals.commitRate / processing
    if (backlog > 0) {
      return { rate: { recordsPerSecond: observed, source: 'commit rate (busy)' }, known: observed }
    }
    const best = Math.max(known ?? 0, observed)
    return { rate: { recordsPerSecond: best, source: 'best busy commit rate' }, known: best }
  }
  if (known !== null && known > 0) {
    return { rate: { recordsPerSecond: known, source: 'last known rate' }, known }
  }
  return { rate: null, known }
}
