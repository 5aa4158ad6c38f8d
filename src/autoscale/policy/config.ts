import { z } from 'zod'
import { ConfigError } from '../../errors.ts'

/**
 * The scaling policy's knobs. Every default is chosen to be safe on Kubernetes: never below one replica unless asked,
 * scale out at once, scale in only after the HPA's own window (300 s) and then in one step. docs/autoscaling.md
 * explains each.
 */
export const scalingPolicyConfigSchema = z
  .object({
    /** Fewest replicas while there is work. 0 allows scaling to zero after `scaleToZeroAfterSeconds` idle. */
    minReplicas: z.number().int().min(0).default(1),
    /** Most replicas; the partition (task) count caps it further. Set it equal to the ScaledObject's maxReplicaCount. */
    maxReplicas: z.number().int().min(1).default(100),
    /** Extra replicas are added so the current backlog drains within this many seconds. */
    lagDrainTargetSeconds: z.number().positive().default(60),
    /**
     * Lag up to `arrivalRate * normalLagSeconds` is work in flight between two commits (the consumer's commit
     * interval), not backlog. Without this a healthy group always looks a little behind.
     */
    normalLagSeconds: z.number().min(0).default(5),
    /** Records per second one replica processes, for groups whose instances do not report a true rate. */
    perReplicaRate: z.number().positive().optional(),
    /** Total lag at or below which the group counts as idle (with no arrivals). */
    activationLag: z.number().int().min(0).default(0),
    /** Seconds with no arrivals and no lag before going to zero; only when `minReplicas` is 0. */
    scaleToZeroAfterSeconds: z.number().min(0).default(300),
    /** A higher count must be recommended for this long before scaling out (0: at once). */
    scaleOutStabilizationSeconds: z.number().min(0).default(0),
    /**
     * A lower count must be recommended for this long before scaling in. A step that removes fewer pods than a full
     * step (standbyReplicas + 1) waits proportionally longer: it costs the same rebalance for less capacity.
     */
    scaleInStabilizationSeconds: z.number().min(0).default(300),
    /**
     * No scale-in while the arrival rate is more than this fraction above the rate the previous decision saw: a burst
     * is starting, and the rate windows have not caught up with it yet.
     */
    risingArrivalsTolerance: z.number().min(0).default(0.1),
    /**
     * With `minReplicas` 0, once the group has been idle (no arrivals, no lag) this long it walks down at once instead
     * of holding burst-sized capacity for `scaleInStabilizationSeconds`: it is on its way to zero anyway.
     */
    idleScaleInAfterSeconds: z.number().min(0).default(30),
    /**
     * Burst memory, off at 0. When arrivals come in bursts (at least two in the last hour), scale-in waits for a quiet
     * period as long as the longest of the last three gaps between bursts (at least `scaleInStabilizationSeconds`, at
     * most this), so capacity is kept through the gaps seen so far and released once a gap runs longer. Fewer
     * rebalances for periodic loads, at the price of the replicas kept.
     */
    burstHoldMaxSeconds: z.number().min(0).default(0),
    /**
     * Hysteresis: scale in only to a count that would still run at or below 1 / (1 + tolerance) of its capacity, so a
     * load hovering at a threshold does not flap between two counts.
     */
    tolerance: z.number().min(0).lt(1).default(0.1),
    /**
     * Standby replicas per task. A scale-in step smaller than standbyReplicas + 1 waits longer; while the per-replica
     * rate is only a lower bound, one step removes at most standbyReplicas + 1 instances.
     */
    standbyReplicas: z.number().int().min(0).default(0),
    /**
     * The HPA's tolerance when KEDA carries the decision (Kubernetes default 0.1). The HPA ignores changes within it,
     * so the policy only asks for counts the HPA will actually apply. 0 for the local scaler or an HPA whose
     * `behavior.scaleUp/scaleDown.tolerance` is 0.
     */
    hpaTolerance: z.number().min(0).lt(1).default(0.1),
    /**
     * The pods-per-15s limit of the ScaledObject's `behavior.scaleDown.policies`, when it has one. With it, scale-in
     * steps smaller than the HPA's tolerance become possible (the scaler overshoots and the HPA stops at exactly the
     * limit), and a larger scale-in walks down through it, one limited step per sync. Without it (recommended), a
     * scale-in is the one step the policy decided, and a group of 10 or more cannot shrink by one pod through an HPA
     * with a 10% tolerance: the policy holds instead.
     */
    hpaScaleDownLimit: z.number().int().min(1).optional(),
    /**
     * Round up to a count at which no replica carries more partitions than it can keep up with (12 partitions on 5
     * replicas leave some with 3, so 5 is no better than 4). Assumes partitions carry similar load.
     */
    partitionAwareRounding: z.boolean().default(true)
  })
  .strict()

export type ScalingPolicyConfig = z.output<typeof scalingPolicyConfigSchema>
export type ScalingPolicyConfigInput = z.input<typeof scalingPolicyConfigSchema>

/**
 * Validates and completes a policy configuration. Errors name the field (`autoscale.policy.maxReplicas`) and say
 * what is wrong with it.
 */
export function parseScalingPolicyConfig(input: ScalingPolicyConfigInput = {}): ScalingPolicyConfig {
  const parsed = scalingPolicyConfigSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue?.path.length ? `.${issue.path.join('.')}` : ''
    const unknownKey = issue?.code === 'unrecognized_keys' ? `.${issue.keys[0]}` : ''
    throw new ConfigError(`autoscale.policy${path}${unknownKey}`, issue?.message ?? 'invalid')
  }
  const config = parsed.data
  if (config.maxReplicas < config.minReplicas) {
    throw new ConfigError(
      'autoscale.policy.maxReplicas',
      `${config.maxReplicas} is below minReplicas ${config.minReplicas}`
    )
  }
  return config
}
