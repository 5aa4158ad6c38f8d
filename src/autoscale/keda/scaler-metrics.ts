import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'

/** The stores whose size a caller can influence; each is bounded, and the metrics show how close to the bound. */
export type ScalerStore = 'reports' | 'scaled_objects' | 'rate_histories'

/** Why a request was refused before it could change or read anything. */
export type RefusalReason =
  | 'token-missing'
  | 'token-wrong'
  | 'group-not-served'
  | 'not-allowed'
  | 'body-too-large'
  | 'too-many-streams'
  | 'invalid'

export interface ScalerMetrics {
  readonly registry: Registry
  evicted(store: ScalerStore): void
  refused(endpoint: 'http' | 'grpc', reason: RefusalReason): void
}

/**
 * The scaler's own Prometheus metrics, in a registry of its own, served on `GET /metrics` of its HTTP port. Sizes are
 * read at scrape time from `sizes`; evictions and refusals are counted as they happen.
 */
export function createScalerMetrics(
  sizes: () => { store: ScalerStore; entries: number; bytes?: number }[]
): ScalerMetrics {
  const registry = new Registry()
  // process_resident_memory_bytes, nodejs_heap_size_used_bytes, ...: how the memory bound is watched in production.
  collectDefaultMetrics({ register: registry })
  const evictions = new Counter({
    name: 'streamlane_scaler_state_evictions_total',
    help: 'Entries evicted (least recently used first) to keep a store within its bound',
    labelNames: ['store'],
    registers: [registry]
  })
  const refusals = new Counter({
    name: 'streamlane_scaler_requests_refused_total',
    help: 'Requests refused before they could change or read anything, by reason',
    labelNames: ['endpoint', 'reason'],
    registers: [registry]
  })
  new Gauge({
    name: 'streamlane_scaler_state_entries',
    help: 'Entries held per store',
    labelNames: ['store'],
    registers: [registry],
    collect() {
      for (const s of sizes()) this.set({ store: s.store }, s.entries)
    }
  })
  new Gauge({
    name: 'streamlane_scaler_state_bytes',
    help: 'Bytes held per store, where the store measures them (reports: their JSON size)',
    labelNames: ['store'],
    registers: [registry],
    collect() {
      for (const s of sizes()) if (s.bytes !== undefined) this.set({ store: s.store }, s.bytes)
    }
  })
  return {
    registry,
    evicted: (store) => evictions.inc({ store }),
    refused: (endpoint, reason) => refusals.inc({ endpoint, reason })
  }
}
