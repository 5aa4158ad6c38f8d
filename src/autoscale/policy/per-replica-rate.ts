import type { ScalingPolicyConfig } from './config.ts'
import type { ScalingSignals } from './signals.ts'

/** How many records per second one replica can process, and where that number came from (for the reason). */
export interface PerReplicaRate {
  recordsPerSecond: number
  source: string
  /**
   * The rate is only a lower bound of the capacity (commits of replicas that were not busy): the need it gives may be
   * too high, so scale-in keeps to small steps.
   */
  lowerBound?: boolean
}

/**
 * The capacity of one replica. In order of trust:
 *  1. the instances' self-reported true rate (records per busy second, DS2): exact whether or not they are busy;
 *  2. `perReplicaRate` from the configuration;
 *  3. the commit rate per processing replica. That is the capacity only while a backlog keeps every replica busy;
 *     otherwise it is the arrival rate spread over the replicas, a lower bound. Sizing by that lower bound would
 *     always return the current count and never scale in, so the policy remembers the rate it last saw while busy
 *     (`known`) and raises it when an idle-ish group still shows a higher rate.
 * During a rebalance or restoration commits stall, so the observation is skipped rather than learnt. Records in
 * flight for long bound all of these from above (`inFlightRateBound`).
 */
export function estimatePerReplicaRate(args: {
  signals: ScalingSignals
  config: ScalingPolicyConfig
  known: number | null
  backlog: number
  distorted: boolean
}): { rate: PerReplicaRate | null; known: number | null } {
  const estimate = rateFromHistory(args)
  // Records in flight for a long time cap the rate from above (c records, the oldest T seconds old: at most c / T per
  // second). It lowers a higher estimate (the records have become slower than what was measured) and stands in when
  // nothing else is known yet: a cold group inside its first slow record learns from it that it needs more replicas.
  // It is a bound of the moment, not a measurement, so it is not remembered as the known rate.
  const bound = args.signals.instances?.inFlightRateBound
  if (bound !== undefined && bound > 0 && (estimate.rate === null || bound < estimate.rate.recordsPerSecond)) {
    return { rate: { recordsPerSecond: bound, source: 'in-flight bound' }, known: estimate.known }
  }
  return estimate
}

function rateFromHistory(args: {
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
    const lowerBound = known === null || observed > known
    return { rate: { recordsPerSecond: best, source: 'best busy commit rate', lowerBound }, known: best }
  }
  if (known !== null && known > 0) {
    return { rate: { recordsPerSecond: known, source: 'last known rate' }, known }
  }
  return { rate: null, known }
}
