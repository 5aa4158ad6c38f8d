import { availableParallelism } from 'node:os'
import { z } from 'zod'
import { ConfigError } from '../../errors.ts'
import { parseScalingPolicyConfig, type ScalingPolicyConfig, type ScalingPolicyConfigInput } from '../policy/config.ts'

/**
 * Options of the local scaler (`streamlane autoscale --local`). Defaults suit a laptop or one VM: decisions every two
 * seconds, a 30 s grace on scale-in (as Kubernetes gives a pod), at most as many workers as the machine has cores.
 */
export const localScalerOptionsSchema = z
  .object({
    /** The consumer group the workers form; measured for lag and handed to each worker as STREAMLANE_GROUP_ID. */
    groupId: z.string().trim().min(1),
    /**
     * Input topics to measure; empty = those the group has committed on or is assigned. Its repartition topics are
     * measured either way.
     */
    topics: z.array(z.string().trim().min(1)).default([]),
    /**
     * `share`: the workers form a share group (KIP-932), measured by its backlog and scaled up to the maximum whatever
     * the partition count (docs/share-groups.md).
     */
    groupType: z.enum(['consumer', 'share']).default('consumer'),
    brokers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each broker must be host:port')).min(1),
    /** The worker command and its arguments (everything after `--`). */
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    cwd: z.string().optional(),
    /** How often signals are read and a decision made. */
    intervalMs: z.number().int().min(100).default(2_000),
    /** SIGTERM -> SIGKILL delay when a worker is stopped: the time it has to commit and leave the group. */
    graceMs: z.number().int().min(0).default(30_000),
    /** A worker not seen in the group this long after its start is presumed started (with a warning). */
    startTimeoutMs: z.number().int().positive().default(60_000),
    /** First restart delay after a crash; doubles per crash in a row up to `maxRestartBackoffMs`. */
    restartBackoffMs: z.number().int().min(0).default(1_000),
    maxRestartBackoffMs: z.number().int().min(0).default(30_000),
    /** A worker that ran this long before dying starts its crash count afresh. */
    stableAfterMs: z.number().int().min(0).default(60_000),
    /** Sliding window of the arrival and commit rates. */
    rateWindowMs: z.number().int().min(1_000).default(30_000),
    /** How long a worker's self-report counts; a few report intervals, so a stopped worker's report fades fast. */
    reportTtlMs: z.number().int().positive().default(10_000),
    /** Where the report endpoint listens; port 0 picks a free one, null disables it. */
    reportHost: z.string().min(1).default('127.0.0.1'),
    reportPort: z.number().int().min(0).max(65_535).nullable().default(0),
    /** Deadline of one admin call to the brokers. */
    requestTimeoutMs: z.number().int().positive().default(10_000),
    /** Workers' stdout / stderr: shared with the scaler or discarded. */
    output: z.enum(['inherit', 'ignore']).default('inherit'),
    /** Policy knobs (src/autoscale/policy/config.ts); minReplicas / maxReplicas are the scaler's --min / --max. */
    policy: z.record(z.string(), z.unknown()).default({})
  })
  .strict()

export type LocalScalerOptionsInput = z.input<typeof localScalerOptionsSchema>
export type LocalScalerConfig = Omit<z.output<typeof localScalerOptionsSchema>, 'policy'> & {
  policy: ScalingPolicyConfig
}

/** The HPA's knobs mean nothing here: no HPA stands between the decision and the processes. */
const HPA_ONLY = ['hpaTolerance', 'hpaScaleDownLimit']

/** Validates and completes the options; errors name the field (`autoscale.local.graceMs`, `autoscale.policy.tolerance`). */
export function parseLocalScalerOptions(input: LocalScalerOptionsInput): LocalScalerConfig {
  const parsed = localScalerOptionsSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue?.path.length ? `.${issue.path.join('.')}` : ''
    const unknownKey = issue?.code === 'unrecognized_keys' ? `.${issue.keys[0]}` : ''
    throw new ConfigError(`autoscale.local${path}${unknownKey}`, issue?.message ?? 'invalid')
  }
  const { policy: policyInput, ...rest } = parsed.data
  const hpaKey = HPA_ONLY.find((k) => k in policyInput)
  if (hpaKey) {
    throw new ConfigError(`autoscale.policy.${hpaKey}`, 'applies to KEDA and the HPA only; the local scaler has no HPA')
  }
  const policy = parseScalingPolicyConfig({
    maxReplicas: Math.max(
      availableParallelism(),
      typeof policyInput.minReplicas === 'number' ? policyInput.minReplicas : 1
    ),
    ...(policyInput as ScalingPolicyConfigInput),
    hpaTolerance: 0
  })
  if (rest.maxRestartBackoffMs < rest.restartBackoffMs) {
    throw new ConfigError(
      'autoscale.local.maxRestartBackoffMs',
      `${rest.maxRestartBackoffMs} is below restartBackoffMs ${rest.restartBackoffMs}`
    )
  }
  return { ...rest, policy }
}
