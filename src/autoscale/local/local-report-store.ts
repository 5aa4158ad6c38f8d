import type { InstanceReport } from '../signals/instance-report.ts'
import { InstanceReportStore } from '../signals/report-store.ts'

/**
 * The report store, plus one thing only a scaler that owns the processes knows: when a worker has exited. Its last
 * report is dropped at once instead of counting until the TTL ends, so a worker that died in the middle of a
 * rebalance does not hold the scaler for another TTL, and a stopped worker's rate no longer counts. A report
 * received after the exit (the slot's restarted worker) counts again.
 */
export class LocalReportStore extends InstanceReportStore {
  readonly #goneSince = new Map<string, number>()

  /** The worker with this instance id exited at `atMs`. */
  forget(instanceId: string, atMs: number): void {
    this.#goneSince.set(instanceId, atMs)
  }

  override put(report: InstanceReport): void {
    const gone = this.#goneSince.get(report.instanceId)
    if (gone !== undefined) {
      if (report.receivedAt <= gone) return
      this.#goneSince.delete(report.instanceId)
    }
    super.put(report)
  }

  override fresh(groupId: string, now: number): InstanceReport[] {
    return super.fresh(groupId, now).filter((r) => !this.#goneSince.has(r.instanceId))
  }
}
