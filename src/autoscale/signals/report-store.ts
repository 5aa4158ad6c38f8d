import type { InstanceReport } from './instance-report.ts'
import { LruMap } from './lru-map.ts'
import type { InstanceSignals } from './types.ts'

export interface InstanceReportStoreOptions {
  /** A report older than this is ignored. */
  ttlMs?: number
  /** Most reports kept, over all groups; the least recently updated goes first. */
  maxReports?: number
  /** Most bytes of reports kept (their JSON size). */
  maxBytes?: number
  /** Called for each report dropped to stay within the bounds (not for expired ones). */
  onEvict?: () => void
}

export const DEFAULT_MAX_REPORTS = 10_000
export const DEFAULT_MAX_REPORT_BYTES = 8 * 1024 * 1024

/**
 * Latest self-report per instance, per group. A report older than `ttlMs` is ignored: an instance that stopped
 * reporting (crashed, scaled in) must not keep a rebalance "in progress" or keep contributing its processing rate.
 * The store is bounded in count and bytes: past either bound the least recently updated report is evicted, so a flood
 * of instance ids cannot grow the process (the transports refuse groups the scaler does not serve before this).
 */
export class InstanceReportStore {
  readonly #ttlMs: number
  readonly #reports: LruMap<string, InstanceReport>
  readonly #byGroup = new Map<string, Set<string>>()

  constructor(options: InstanceReportStoreOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 30_000
    this.#reports = new LruMap({
      maxEntries: options.maxReports ?? DEFAULT_MAX_REPORTS,
      maxBytes: options.maxBytes ?? DEFAULT_MAX_REPORT_BYTES,
      sizeOf: reportBytes,
      onEvict: (key, report) => {
        this.#unindex(report.groupId, key)
        options.onEvict?.()
      }
    })
  }

  put(report: InstanceReport): void {
    const key = keyOf(report.groupId, report.instanceId)
    let keys = this.#byGroup.get(report.groupId)
    if (!keys) {
      keys = new Set()
      this.#byGroup.set(report.groupId, keys)
    }
    keys.add(key)
    this.#reports.set(key, report)
  }

  /** Fresh reports of a group; stale ones are dropped on the way. */
  fresh(groupId: string, now: number): InstanceReport[] {
    const keys = this.#byGroup.get(groupId)
    if (!keys) return []
    const fresh: InstanceReport[] = []
    for (const key of [...keys]) {
      const report = this.#reports.peek(key)
      if (report && now - report.receivedAt <= this.#ttlMs) fresh.push(report)
      else {
        this.#reports.delete(key)
        this.#unindex(groupId, key)
      }
    }
    return fresh
  }

  summarize(groupId: string, now: number): InstanceSignals {
    return summarizeReports(this.fresh(groupId, now))
  }

  /** Reports held (fresh or not yet swept) and their bytes: the bound the operator configured, as a metric. */
  get size(): { reports: number; bytes: number; groups: number } {
    return { reports: this.#reports.size, bytes: this.#reports.bytes, groups: this.#byGroup.size }
  }

  #unindex(groupId: string, key: string): void {
    const keys = this.#byGroup.get(groupId)
    if (!keys) return
    keys.delete(key)
    if (keys.size === 0) this.#byGroup.delete(groupId)
  }
}

function keyOf(groupId: string, instanceId: string): string {
  return `${groupId}\u0000${instanceId}`
}

/** A report's weight in the byte bound: its JSON size, which is what a caller controls. */
function reportBytes(report: InstanceReport): number {
  return Buffer.byteLength(JSON.stringify(report))
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
  const bounds = reports.map(inFlightRateBound).filter((b): b is number => b !== undefined)
  if (bounds.length > 0) signals.inFlightRateBound = bounds.reduce((a, b) => a + b, 0) / bounds.length
  if (standbys.length > 0) signals.standbyReplicas = Math.min(...standbys)
  if (warmups.length > 0) signals.warmupProgress = Math.min(...warmups)
  return signals
}

/**
 * One instance's upper bound on its rate from what it has in flight: c records, the oldest T seconds old, means at most
 * c / T records per second (it cannot finish them faster than the oldest one takes). None without records in flight.
 */
function inFlightRateBound(report: InstanceReport): number | undefined {
  const records = report.inFlightRecords
  const ageMs = report.oldestInFlightMs
  if (records === undefined || ageMs === undefined || records === 0 || ageMs <= 0) return undefined
  return (records * 1000) / ageMs
}
