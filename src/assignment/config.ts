import { ConfigError } from '../errors.ts'

/**
 * Tuning of the task assignor. Names and defaults follow Kafka Streams (num.standby.replicas, max.warmup.replicas,
 * acceptable.recovery.lag, probing.rebalance.interval.ms) so its documentation carries over.
 */
export interface AssignorConfig {
  /** Copies of each stateful task kept on other processes, ready to take over without a restore. */
  numStandbyReplicas: number
  /** Warm-up replicas in flight across the whole group; bounds the extra restore traffic a scale-out causes. */
  maxWarmupReplicas: number
  /** A member whose store copy is at most this many changelog records behind counts as caught up. */
  acceptableRecoveryLag: number
  /** Upper bound on how long the group waits before re-checking warm-ups with a probing rebalance. */
  probingRebalanceIntervalMs: number
  /**
   * Cooperative handover (default): a task still owned by a live member is not given to its new owner in the same
   * rebalance; the old owner revokes it (commit first) and rejoins at once, and the next rebalance hands it over. Set
   * false only when members revoke everything before joining (eager protocol).
   */
  cooperative: boolean
  /**
   * High availability (default): a stateful task moves only to a member caught up on it, others get a warm-up
   * first. False: every member counts as caught up, so placement is sticky and balanced only (Kafka Streams'
   * StickyTaskAssignor); for runtimes that do not run warm-up tasks, where a move means a restore on the new owner.
   */
  highAvailability: boolean
}

export const DEFAULT_ASSIGNOR_CONFIG: Readonly<AssignorConfig> = Object.freeze({
  numStandbyReplicas: 0,
  maxWarmupReplicas: 2,
  acceptableRecoveryLag: 10_000,
  probingRebalanceIntervalMs: 600_000,
  cooperative: true,
  highAvailability: true
})

function integer(field: keyof AssignorConfig, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`assignment.${field}`, `must be an integer >= ${min}, got ${String(value)}`)
  }
  return value
}

/** Defaults filled in and every field checked; errors name the field as `assignment.<name>`. */
export function resolveAssignorConfig(config: Partial<AssignorConfig> = {}): AssignorConfig {
  const merged = { ...DEFAULT_ASSIGNOR_CONFIG, ...config }
  for (const field of ['cooperative', 'highAvailability'] as const) {
    if (typeof merged[field] !== 'boolean') {
      throw new ConfigError(`assignment.${field}`, `must be a boolean, got ${String(merged[field])}`)
    }
  }
  return {
    numStandbyReplicas: integer('numStandbyReplicas', merged.numStandbyReplicas, 0),
    // At least one: with zero, a stateful task could never move to a member without state, so balance would never
    // be restored after a scale-out.
    maxWarmupReplicas: integer('maxWarmupReplicas', merged.maxWarmupReplicas, 1),
    acceptableRecoveryLag: integer('acceptableRecoveryLag', merged.acceptableRecoveryLag, 0),
    probingRebalanceIntervalMs: integer('probingRebalanceIntervalMs', merged.probingRebalanceIntervalMs, 1),
    cooperative: merged.cooperative,
    highAvailability: merged.highAvailability
  }
}
