/**
 * What a worker is told about itself, through its environment. Slot numbers are stable (0, 1, 2, ...; scale-in always
 * removes the highest), so `<group>-worker-<slot>` can be the worker's static group member id (`group.instance.id`):
 * a crashed worker restarted in the same slot gets its partitions back without a rebalance.
 */
export const WORKER_ENV = {
  /** `<group>-worker-<slot>`: use it as group.instance.id (and client id, so the scaler sees the worker join). */
  instanceId: 'STREAMLANE_GROUP_INSTANCE_ID',
  /** The slot number, 0-based. */
  index: 'STREAMLANE_WORKER_INDEX',
  /** The consumer group the scaler measures; the worker must join this group. */
  groupId: 'STREAMLANE_GROUP_ID',
  /** Base URL of the scaler's report endpoint (POST /reports); absent when reports are disabled. */
  scalerUrl: 'STREAMLANE_SCALER_URL',
  /** Bearer token for those reports, made per run (the app's scalerReportToken reads it). */
  reportToken: 'STREAMLANE_SCALER_REPORT_TOKEN',
  /** Bootstrap servers, when the scaler was given them (otherwise inherited as they are). */
  brokers: 'KAFKA_BROKERS',
  /**
   * Always `true`: the scaler SIGTERMs a worker only to remove it, so a static member must leave the group at once
   * rather than hold its partitions until its session times out.
   */
  leaveGroupOnClose: 'STREAMLANE_LEAVE_GROUP_ON_CLOSE'
} as const

export function instanceIdFor(groupId: string, slot: number): string {
  return `${groupId}-worker-${slot}`
}
