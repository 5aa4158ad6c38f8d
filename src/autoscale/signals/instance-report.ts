import { z } from 'zod'
import { ScalerInputError } from './errors.ts'

/**
 * What a Streamlane instance says about itself to the scaler (POST /reports on the metrics-api server). Offsets alone
 * cannot tell these apart: a pod that is restoring state looks like a slow consumer, a rebalance looks like a stall,
 * and the commit rate of a saturated group is its capacity only while there is a backlog. Non-Streamlane groups never
 * report; every consumer of these signals must work without them.
 */
/** Longest group, instance or member id taken: ids are names, and a report's size is part of the scaler's memory bound. */
const MAX_ID_LENGTH = 255
/** More warm-ups than one instance can build at once (Streamlane's maxWarmupReplicas is a handful). */
const MAX_WARMUPS = 1_000

export const instanceReportSchema = z.object({
  groupId: z.string().min(1).max(MAX_ID_LENGTH),
  /** Stable per process: the pod name (group.instance.id) or the process id. Later reports replace earlier ones. */
  instanceId: z.string().min(1).max(MAX_ID_LENGTH),
  memberId: z.string().max(MAX_ID_LENGTH).optional(),
  /** Records per second of busy (non-waiting) time: the DS2 "true processing rate". */
  trueProcessingRate: z.number().nonnegative().finite().optional(),
  /**
   * Records being processed right now, and how long the oldest of them has been (milliseconds). With records slower
   * than the report interval the true rate is known only once one finishes; these bound it before (at most
   * inFlightRecords / oldest age per second). Both or neither.
   */
  inFlightRecords: z.number().int().nonnegative().optional(),
  oldestInFlightMs: z.number().nonnegative().finite().optional(),
  /** Fraction of wall time spent processing, 0..1. */
  busyRatio: z.number().min(0).max(1).optional(),
  rebalanceInProgress: z.boolean().default(false),
  /** Active tasks still restoring their stores from changelogs (they take partitions but process nothing). */
  restoringTasks: z.number().int().nonnegative().default(0),
  /** Fewest standby replicas of any task this instance hosts. */
  standbyReplicas: z.number().int().nonnegative().optional(),
  /** Warm-up copies this instance is building, with how far each has caught up (0..1). */
  warmups: z
    .array(z.object({ task: z.string().max(64), progress: z.number().min(0).max(1) }))
    .max(MAX_WARMUPS)
    .default([]),
  /** Milliseconds since the epoch when the instance measured this; the receiver's clock is used when absent. */
  at: z.number().int().positive().optional()
})

export type InstanceReportInput = z.input<typeof instanceReportSchema>
export type InstanceReport = z.output<typeof instanceReportSchema> & { receivedAt: number }

/** Validates a report body; the error names the first bad field so the instance's log says what to fix. */
export function parseInstanceReport(body: unknown, receivedAt: number): InstanceReport {
  const parsed = instanceReportSchema.safeParse(body)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const field = issue && issue.path.length > 0 ? `report.${issue.path.join('.')}` : 'report'
    throw new ScalerInputError(field, issue?.message ?? 'not a valid instance report')
  }
  return { ...parsed.data, receivedAt }
}
