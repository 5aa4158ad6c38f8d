/**
 * What the scaler decided over time, per ScaledObject (or metrics-api query name), for its status page and
 * `GET /status`: each evaluation's lag, arrival and commit rates, the replicas it asked for and the members it saw,
 * and the reason. Bounded: the last `maxPoints` evaluations per object (an hour and a half at KEDA's 15 s polls) and at
 * most `maxObjects` objects, the least recently evaluated dropped first (a few MB at the very most).
 */
import type { Evaluation } from './scaler-service.ts'

export interface DecisionPoint {
  /** Epoch milliseconds of the evaluation. */
  at: number
  lag: number
  /** Records per second arriving in the measured partitions, and committed by the group; null until measured. */
  arrivalRate: number | null
  commitRate: number | null
  /** The replicas the policy asked for, and the group's members (the replicas running) when it decided. */
  replicas: number
  members: number
  reason: string
}

export interface ObjectDecisions {
  /** `namespace/name` of the ScaledObject, or `metrics-api/<name>` for a query. */
  key: string
  group: string
  points: DecisionPoint[]
}

export const DEFAULT_HISTORY_POINTS = 360
export const DEFAULT_HISTORY_OBJECTS = 50

export class DecisionHistory {
  readonly #maxPoints: number
  readonly #maxObjects: number
  /** Insertion order = least recently evaluated first (re-inserted on each evaluation). */
  readonly #objects = new Map<string, ObjectDecisions>()

  constructor(options: { maxPoints?: number; maxObjects?: number } = {}) {
    this.#maxPoints = options.maxPoints ?? DEFAULT_HISTORY_POINTS
    this.#maxObjects = options.maxObjects ?? DEFAULT_HISTORY_OBJECTS
  }

  record(evaluation: Evaluation, group: string): void {
    const key = evaluation.key
    const entry = this.#objects.get(key) ?? { key, group, points: [] }
    this.#objects.delete(key)
    this.#objects.set(key, entry)
    entry.group = group
    const { snapshot, rates } = evaluation.signals
    entry.points.push({
      at: evaluation.at,
      lag: snapshot.totalLag,
      arrivalRate: rates.arrivalRate,
      commitRate: rates.commitRate,
      replicas: evaluation.replicas,
      members: evaluation.currentReplicas,
      reason: evaluation.reason
    })
    if (entry.points.length > this.#maxPoints) entry.points.splice(0, entry.points.length - this.#maxPoints)
    while (this.#objects.size > this.#maxObjects) this.#objects.delete(this.#objects.keys().next().value!)
  }

  /** Every object, most recently evaluated first. */
  objects(): ObjectDecisions[] {
    return [...this.#objects.values()].reverse().map((o) => ({ ...o, points: [...o.points] }))
  }
}
