import { type ArrivalSamples, shiftArrivalSamples } from './arrival-memory.ts'
import type { ScalingPolicyConfig } from './config.ts'
import { type InstanceSelfReport, partitionCountOf, type ScalingSignals, totalLag } from './signals.ts'
import type { PolicyState } from './state.ts'

/** Rebalances a partial scale-in step costs (a warm-up and the move), against one for a full step. */
export const PARTIAL_STEP_COST = 2

/** What one decision reads, worked out once from the signals, the configuration and the remembered state. */
export interface Situation {
  readonly signals: ScalingSignals
  readonly config: ScalingPolicyConfig
  readonly state: PolicyState
  readonly now: number
  readonly partitions: number
  readonly current: number
  readonly lag: number
  readonly arrivalKnown: boolean
  /** 0 while not measured yet (see `arrivalKnown`). */
  readonly arrival: number
  readonly self: InstanceSelfReport
  /** The fewest replicas a group with work runs (at least one). */
  readonly activeFloor: number
  /** The most replicas that can own work: max replicas, capped at the partition count (not below the floor). */
  readonly ceiling: number
  readonly idle: boolean
  readonly idleSinceMs: number | null
  /** How long recommendations are remembered. */
  readonly keepMs: number
  readonly seen: ArrivalSamples | null
  /** The arrival rate a rise is measured against, 15-30 s ago. */
  readonly baseline: ArrivalSamples['newer'] | null
}

/** How a decision ends: the count, the reason, and what it changes in the state beyond the usual fields. */
export interface Outcome {
  replicas: number
  reason: string
  state?: Partial<PolicyState>
}

export function situationOf(signals: ScalingSignals, config: ScalingPolicyConfig, state: PolicyState): Situation {
  const now = signals.atMs
  const partitions = partitionCountOf(signals)
  const lag = totalLag(signals)
  const arrivalKnown = signals.arrivalRate !== null
  const arrival = signals.arrivalRate ?? 0
  const activeFloor = Math.max(1, config.minReplicas)
  const idle = arrivalKnown && arrival === 0 && lag <= config.activationLag
  // Long enough for the slowest window that reads it (a one-pod step waits 2 x (standbyReplicas + 1) windows), and
  // one window more, so that a window can be seen whole.
  const keepMs =
    Math.max(
      config.scaleOutStabilizationSeconds,
      Math.max(config.scaleInStabilizationSeconds, config.burstHoldMaxSeconds) *
        (PARTIAL_STEP_COST * (config.standbyReplicas + 1) + 1)
    ) * 1000
  const seen = shiftArrivalSamples(state.arrivalSamples ?? null, arrivalKnown ? arrival : null, now)
  return {
    signals,
    config,
    state,
    now,
    partitions,
    current: signals.currentReplicas,
    lag,
    arrivalKnown,
    arrival,
    self: signals.instances ?? {},
    activeFloor,
    ceiling: Math.max(Math.min(config.maxReplicas, partitions), activeFloor),
    idle,
    idleSinceMs: idle ? (state.idleSinceMs ?? now) : null,
    keepMs,
    seen,
    baseline: seen?.older ?? null
  }
}

/** Step 2's outcome: the need in (fractional) replicas, or a held decision when no per-replica rate is known. */
export type Need =
  | { readonly held: Outcome; readonly known?: undefined }
  | {
      readonly held?: undefined
      readonly replicas: number
      /** What the arrivals alone need. */
      readonly rateNeed: number
      /** What the arrivals need with a rise still to come: all but the backlog's transient term. */
      readonly arrivalNeed: number
      readonly perReplica: number
      /** The per-replica rate is a measurement or configured, not a lower bound: scale-in may go in one step. */
      readonly rateKnown: boolean
      readonly known: number | null
      readonly parts: readonly string[]
    }
