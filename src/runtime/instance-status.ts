/**
 * What the scaler reporter posts about this instance, read from the running app: the true-rate inputs (standby and
 * warm-up upkeep is busy time too), whether the group rebalances, restoring tasks, warm-up progress and how many
 * caught-up standby copies the tasks have.
 */
import type { StreamsConfig } from './config.ts'
import type { RunningApp } from './running-app.ts'
import type { InstanceStatus } from './scaler-reporter.ts'
import type { StandbyTaskStatus } from './standby-tasks.ts'

export function instanceStatus(running: RunningApp, config: StreamsConfig): InstanceStatus {
  return {
    processed: running.tasks.processedTotal,
    busyMs: running.tasks.busyMs + (running.replicas?.standbys.busyMs ?? 0),
    // The group's rebalance, not the app's REBALANCING state (which also covers restoration).
    rebalanceInProgress: running.member.rebalanceInProgress,
    restoringTasks: running.restorer?.restoringTasks ?? 0,
    warmups: running.replicas?.warmupProgress(),
    standbyReplicas: caughtUpStandbyReplicas(
      config.numStandbyReplicas,
      BigInt(config.acceptableRecoveryLag),
      running.replicas?.standbys.status() ?? []
    ),
    memberId: running.member.memberId,
    // Records of asynchronous processors in flight: they bound the rate before the first slow one finishes.
    inFlight: running.tasks.inFlight
  }
}

/**
 * The fewest caught-up standby copies of any task, as far as this instance can tell: a standby held here that is
 * more than `acceptableRecoveryLag` records behind (or not fetched yet) leaves its task at most one short of
 * `numStandbyReplicas`. The scaler takes the lowest report, so its policy holds scale-in while any copy catches up
 * (removing a pod then would turn its tasks' handover into a restore).
 */
export function caughtUpStandbyReplicas(
  numStandbyReplicas: number,
  acceptableRecoveryLag: bigint,
  held: readonly Pick<StandbyTaskStatus, 'kind' | 'lag'>[]
): number {
  const behind = held.some((t) => t.kind === 'standby' && (t.lag === undefined || t.lag > acceptableRecoveryLag))
  return behind ? Math.max(0, numStandbyReplicas - 1) : numStandbyReplicas
}
