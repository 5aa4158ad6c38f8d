/**
 * What the scaler reporter posts about this instance, read from the running app: the true-rate inputs (standby and
 * warm-up upkeep is busy time too), whether the group rebalances, restoring tasks, and warm-up progress.
 */
import type { StreamsConfig } from './config.ts'
import type { RunningApp } from './running-app.ts'
import type { InstanceStatus } from './scaler-reporter.ts'

export function instanceStatus(running: RunningApp, config: StreamsConfig): InstanceStatus {
  return {
    processed: running.tasks.processedTotal,
    busyMs: running.tasks.busyMs + (running.replicas?.standbys.busyMs ?? 0),
    // The group's rebalance, not the app's REBALANCING state (which also covers restoration).
    rebalanceInProgress: running.member.rebalanceInProgress,
    restoringTasks: running.restorer?.restoringTasks ?? 0,
    warmups: running.replicas?.warmupProgress(),
    standbyReplicas: config.numStandbyReplicas,
    memberId: running.member.memberId,
    // Records of asynchronous processors in flight: they bound the rate before the first slow one finishes.
    inFlight: running.tasks.inFlight
  }
}
