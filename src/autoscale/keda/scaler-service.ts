import type { SignalCollector } from '../signals/collector.ts'
import { LruMap } from '../signals/lru-map.ts'
import type { GroupSignals } from '../signals/types.ts'
import { groupAllowed, type ScalerAccess } from './access-policy.ts'
import { DecisionHistory } from './decision-history.ts'
import type { ScalingPolicy } from './policy-port.ts'
import { parseTriggerMetadata, type ScalerTrigger } from './trigger-metadata.ts'

/** Who asks: a ScaledObject (namespace/name + trigger metadata) or a metrics-api query standing in for one. */
export interface ScalerRequest {
  namespace: string
  name: string
  metadata: Record<string, string | undefined>
  /** Where the metadata came from, for error messages: `metadata` (KEDA) or `query` (metrics-api). */
  source?: 'metadata' | 'query'
}

/** One evaluation: the policy's decision and the metric that makes the HPA land on it. */
export interface Evaluation {
  key: string
  metricName: string
  /** The policy's replica count. */
  replicas: number
  /** What the HPA is assumed to run now (group members): the base of its tolerance check. */
  currentReplicas: number
  /** replicas > 0: KEDA keeps the workload at >= 1 while true and may take it to 0 when false. */
  active: boolean
  /** AverageValue metric: ceil(metricValue / targetSize) = replicas. */
  metricValue: number
  targetSize: number
  reason: string
  at: number
  signals: GroupSignals
}

/** Structured logger, pino-compatible. */
export interface ScalerLogger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
}

export interface ScalerServiceOptions {
  collector: SignalCollector
  policy: ScalingPolicy
  /**
   * An evaluation younger than this is reused: KEDA calls GetMetrics and then IsActive on every poll, and the answer to
   * both must come from the same decision (and must not advance the policy's stabilization clocks twice).
   */
  reuseMs?: number
  /** A ScaledObject not evaluated for this long loses its policy state. */
  idleMs?: number
  logger?: ScalerLogger
  /** Brokers used when a trigger names no bootstrapServers. */
  defaultBrokers?: string[]
  /** Which groups and clusters callers may ask for. */
  access?: ScalerAccess
  /** Most ScaledObjects (and metrics-api query names) with state; the least recently asked is evicted first. */
  maxObjects?: number
  /** Called for each ScaledObject state evicted to stay within maxObjects. */
  onEvict?: () => void
  now?: () => number
}

export const DEFAULT_MAX_OBJECTS = 1_000

interface ObjectState {
  groupId: string
  signature: string
  policyState: unknown
  last: Evaluation | undefined
  inflight: Promise<Evaluation> | undefined
  lastUsed: number
}

/**
 * The transport-free core of the KEDA external scaler and the metrics-api endpoint: per ScaledObject it keeps the
 * policy state, collects signals, asks the policy, and turns the decision into an HPA metric. Errors propagate as
 * SignalError subclasses; transports map them to statuses and never to a zero.
 */
export class ScalerService {
  readonly #collector: SignalCollector
  readonly #policy: ScalingPolicy
  readonly #reuseMs: number
  readonly #idleMs: number
  readonly #logger: ScalerLogger | undefined
  readonly #now: () => number
  readonly #defaultBrokers: string[]
  readonly #access: ScalerAccess
  readonly #objects: LruMap<string, ObjectState>
  /** Every evaluation, bounded, for the status page (GET /status of the HTTP port). */
  readonly history = new DecisionHistory()

  constructor(options: ScalerServiceOptions) {
    this.#collector = options.collector
    this.#policy = options.policy
    this.#reuseMs = options.reuseMs ?? 1_000
    this.#idleMs = options.idleMs ?? 15 * 60_000
    this.#logger = options.logger
    this.#now = options.now ?? Date.now
    this.#defaultBrokers = options.defaultBrokers ?? []
    this.#access = options.access ?? {}
    const onEvict = options.onEvict
    this.#objects = new LruMap({
      maxEntries: options.maxObjects ?? DEFAULT_MAX_OBJECTS,
      // A poll in flight keeps its state: evicting it would only make the next poll start from scratch.
      evictable: (state) => !state.inflight,
      ...(onEvict ? { onEvict: () => onEvict() } : {})
    })
  }

  /** The metric's name and target, from the metadata alone: GetMetricSpec must not depend on the cluster's state. */
  metricSpec(request: ScalerRequest): { metricName: string; targetSize: number; trigger: ScalerTrigger } {
    const trigger = parseTriggerMetadata(request.metadata, request.source, this.#defaultBrokers, this.#access)
    return { metricName: metricNameFor(trigger.groupId), targetSize: this.#policy.targetSize, trigger }
  }

  evaluate(request: ScalerRequest): Promise<Evaluation> {
    let trigger: ScalerTrigger
    try {
      trigger = this.metricSpec(request).trigger
    } catch (error) {
      return Promise.reject(error)
    }
    const key = `${request.namespace}/${request.name}`
    const signature = JSON.stringify(trigger)
    const now = this.#now()
    this.#sweep(now)
    let state = this.#objects.get(key)
    if (!state || state.signature !== signature) {
      // New or edited ScaledObject: old stabilization state described another configuration.
      state = {
        groupId: trigger.groupId,
        signature,
        policyState: undefined,
        last: undefined,
        inflight: undefined,
        lastUsed: now
      }
      this.#objects.set(key, state)
    }
    state.lastUsed = now
    if (state.inflight) return state.inflight
    if (state.last && now - state.last.at < this.#reuseMs) return Promise.resolve(state.last)
    const current = state
    const run = this.#run(key, trigger, current).finally(() => {
      current.inflight = undefined
    })
    current.inflight = run
    return run
  }

  /** Number of ScaledObjects with live state (for health output). */
  get objects(): number {
    return this.#objects.size
  }

  /**
   * Whether self-reports for this group are taken: it is on the operator's allow-list or, without one, some
   * ScaledObject or query evaluated it lately. Reports for any other group are refused before they are stored.
   */
  serves(groupId: string): boolean {
    if (this.#access.groups) return groupAllowed(this.#access, groupId)
    const now = this.#now()
    for (const [, state] of this.#objects.entries()) {
      if (state.groupId === groupId && now - state.lastUsed <= this.#idleMs) return true
    }
    return false
  }

  async close(): Promise<void> {
    this.#objects.clear()
    await this.#collector.close()
  }

  async #run(key: string, trigger: ScalerTrigger, state: ObjectState): Promise<Evaluation> {
    const started = this.#now()
    let signals: GroupSignals
    try {
      signals = await this.#collector.collect(key, {
        brokers: trigger.brokers,
        groupId: trigger.groupId,
        topics: trigger.topics,
        allowUnknownGroup: trigger.allowUnknownGroup,
        groupType: trigger.groupType,
        rateWindowMs: trigger.rateWindowSeconds * 1000
      })
    } catch (error) {
      const e = error as { code?: string; message?: string }
      this.#logger?.warn(
        { scaledObject: key, group: trigger.groupId, code: e.code, err: e.message },
        'signal collection failed'
      )
      throw error
    }
    // One consumer per replica (Streamlane apps, most consumers): the members are the replicas the HPA runs now.
    const currentReplicas = signals.snapshot.members.length
    const decision = this.#policy.decide(signals, trigger.targets, state.policyState, currentReplicas)
    state.policyState = decision.state
    const metric = this.#policy.metric(decision.replicas, currentReplicas, trigger.targets)
    let reason = decision.reason
    if (signals.snapshot.noCommittedOffsets)
      reason += ' (group has no committed offsets: lag counted from the log start)'
    if (!metric.exact) reason += `; the HPA can only reach ${metric.hpaReplicas} from ${currentReplicas}`
    const at = this.#now()
    const evaluation: Evaluation = {
      key,
      metricName: metricNameFor(trigger.groupId),
      replicas: decision.replicas,
      currentReplicas,
      active: metric.active,
      metricValue: metric.metricValue,
      targetSize: metric.target,
      reason,
      at,
      signals
    }
    if (state.last?.replicas !== evaluation.replicas) {
      this.#logger?.info(
        {
          scaledObject: key,
          group: trigger.groupId,
          replicas: evaluation.replicas,
          previous: state.last?.replicas ?? null,
          members: currentReplicas,
          lag: signals.snapshot.totalLag,
          arrivalRate: signals.rates.arrivalRate,
          commitRate: signals.rates.commitRate,
          metricValue: evaluation.metricValue,
          tookMs: at - started
        },
        `scaling decision: ${evaluation.reason}`
      )
    }
    state.last = evaluation
    this.history.record(evaluation, trigger.groupId)
    return evaluation
  }

  #sweep(now: number): void {
    for (const [key, state] of [...this.#objects.entries()]) {
      if (!state.inflight && now - state.lastUsed > this.#idleMs) this.#objects.delete(key)
    }
  }
}

/**
 * The metric name KEDA puts on the HPA (prefixed with `s<index>-`). Kubernetes metric names are DNS-label-like, so a
 * group id is lower-cased and anything else becomes '-'.
 */
export function metricNameFor(groupId: string): string {
  const cleaned = groupId
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
  return `streamlane-lag-${cleaned || 'group'}`
}
