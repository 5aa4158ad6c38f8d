/**
 * Rebalances this instance went through: how many, why (a bounded set of causes, so the metric's labels stay few),
 * how long from the start of the rejoin until the new assignment was running, and the last few for the status page.
 */
import { BucketHistogram } from './bucket-histogram.ts'

/**
 * The cause of a rebalance, from the reason the group member gives: its own first join, the coordinator telling it
 * (another member joined, left or changed its subscription), the cooperative follow-up after it gave tasks away, a
 * commit refused for a stale generation, a fenced producer, or anything else.
 */
export const REBALANCE_CAUSES = ['join', 'group', 'follow-up', 'commit-refused', 'fenced', 'other'] as const
export type RebalanceCause = (typeof REBALANCE_CAUSES)[number]

/** Reason texts (src/kafka/group, src/runtime/committer.ts) to causes; more can be added as new reasons appear. */
const CAUSE_BY_REASON: readonly [RegExp, RebalanceCause][] = [
  [/^initial join$/, 'join'],
  [/^the coordinator started a rebalance$/, 'group'],
  [/^revoked /, 'follow-up'],
  [/^the offset commit was refused$/, 'commit-refused'],
  [/^the producer was fenced$/, 'fenced']
]

export function rebalanceCause(reason: unknown): RebalanceCause {
  const text = String(reason)
  return CAUSE_BY_REASON.find(([pattern]) => pattern.test(text))?.[1] ?? 'other'
}

export interface RebalanceRecord {
  /** Epoch milliseconds. */
  startedAt: number
  cause: RebalanceCause
  /** The member's own words (may name partitions), for people; `cause` is for metrics. */
  reason: string
  /** Undefined while it is going on. */
  durationMs?: number
  generation?: number
  /** Active tasks once the assignment ran. */
  tasks?: number
}

/** Rebalances kept for the status page. */
const KEPT = 20

export class RebalanceHistory {
  readonly #counts = new Map<RebalanceCause, number>(REBALANCE_CAUSES.map((cause) => [cause, 0]))
  readonly durationSeconds = new BucketHistogram([0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300])
  readonly #recent: RebalanceRecord[] = []
  #current: RebalanceRecord | undefined

  /** The member started rejoining; one that started before and never completed is left without a duration. */
  started(reason: unknown, nowMs: number = Date.now()): void {
    const cause = rebalanceCause(reason)
    this.#counts.set(cause, (this.#counts.get(cause) ?? 0) + 1)
    this.#current = { startedAt: nowMs, cause, reason: String(reason) }
    this.#recent.push(this.#current)
    if (this.#recent.length > KEPT) this.#recent.shift()
  }

  /** The new assignment is running. */
  completed(generation: number, tasks: number, nowMs: number = Date.now()): void {
    const current = this.#current
    if (!current) return
    this.#current = undefined
    current.durationMs = nowMs - current.startedAt
    current.generation = generation
    current.tasks = tasks
    this.durationSeconds.observe(current.durationMs / 1000)
  }

  get total(): number {
    let total = 0
    for (const count of this.#counts.values()) total += count
    return total
  }

  countsByCause(): Record<RebalanceCause, number> {
    return Object.fromEntries(this.#counts) as Record<RebalanceCause, number>
  }

  /** The latest last. */
  recent(): readonly RebalanceRecord[] {
    return this.#recent.map((r) => ({ ...r }))
  }
}
