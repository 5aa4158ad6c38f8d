import type { InstanceReport } from './instance-report.ts'
import type { InstanceSignals } from './types.ts'

/**
 * Latest self-report per instance, per group. A report older than `ttlMs` is ignored: an instance that stopped
 * reporting (crashed, scaled in) must not keep a rebalance "in progress" or keep contributing its processing rate.
 */
export class InstanceReportStore {
  readonly #ttlMs: number
  readonly #byGroup = new Map<string, Map<string, InstanceReport>>()

  constructor(options: { ttlMs?: number } = {}) {
    this.#ttlMs = options.ttlMs ?? 30_000
  }

  put(report: InstanceReport): void {
    let group = this.#byGroup.get(report.groupId)
    if (!group) {
      group = new Map()
      this.#byGroup.set(report.groupId, group)
    }
    group.set(report.instanceId, report)
  }

  /** Fresh reports of a group; stale ones are dropped on the way. */
  fresh(groupId: string, now: number): InstanceReport[] {
    const group = this.#byGroup.get(groupId)
    if (!group) return []
    for (const [id, report] of group) {
      if (now - report.receivedAt > this.#ttlMs) group.delete(id)
    }
    if (group.size === 0) this.#byGroup.delete(groupId)
    return [...group.values()]
  }

  summarize(groupId: string, now: number): InstanceSignals {
    return summarizeReports(this.fresh(groupId, now))
  }
}

/** Pure aggregation of fresh reports into the signals the policy reads. */
export function summarizeReports(reports: readonly InstanceReport[]): InstanceSignals {
  const rates = reports.map((r) => r.trueProcessingRate).filter((r): r is number => r !== undefined)
  const standbys = reports.map((r) => r.standbyReplicas).filter((s): s is number => s !== undefined)
  const warmups = reports.flatMap((r) => r.warmups.map((w) => w.progress))
  const signals: InstanceSignals = {
    reporting: reports.length,
    rebalanceInProgress: reports.some((r) => r.rebalanceInProgress),
    restorationInProgress: reports.some((r) => r.restoringTasks > 0)
  }
  if (rates.length > 0) {
    const total = rates.reduce((a, b) => a + b, 0)
    signals.trueRateTotal = total
    signals.trueRatePerInstance = total / rates.length
  }
  if (standbys.length > 0) signals.standbyReplicas = Math.min(...standbys)
  if (warmups.length > 0) signals.warmupProgress = Math.min(...warmups)
  return signals
}
