import type { AdminFactory, SignalAdmin } from './admin-port.ts'

interface Pooled {
  admin: SignalAdmin
  lastUsed: number
}

/**
 * One admin client per bootstrap list, shared by every ScaledObject that names the same cluster. Clients idle for
 * longer than `idleMs` are closed on the next lookup (no timer to keep the process alive), and a client whose cluster
 * became unreachable is discarded so the next poll starts from a fresh connection instead of a wedged one.
 */
export class AdminPool {
  readonly #factory: AdminFactory
  readonly #idleMs: number
  readonly #clientId: string
  readonly #now: () => number
  readonly #pool = new Map<string, Pooled>()

  constructor(options: { factory: AdminFactory; idleMs?: number; clientId?: string; now?: () => number }) {
    this.#factory = options.factory
    this.#idleMs = options.idleMs ?? 10 * 60_000
    this.#clientId = options.clientId ?? 'streamlane-scaler'
    this.#now = options.now ?? Date.now
  }

  get(brokers: readonly string[]): SignalAdmin {
    const now = this.#now()
    this.#sweep(now)
    const key = poolKey(brokers)
    let pooled = this.#pool.get(key)
    if (!pooled) {
      pooled = { admin: this.#factory({ brokers: [...brokers], clientId: this.#clientId }), lastUsed: now }
      this.#pool.set(key, pooled)
    }
    pooled.lastUsed = now
    return pooled.admin
  }

  /** Drops (and closes) the client for these brokers, if it is still the one given. */
  discard(brokers: readonly string[], admin: SignalAdmin): void {
    const key = poolKey(brokers)
    if (this.#pool.get(key)?.admin !== admin) return
    this.#pool.delete(key)
    void admin.close().catch(() => {})
  }

  get size(): number {
    return this.#pool.size
  }

  async close(): Promise<void> {
    const all = [...this.#pool.values()]
    this.#pool.clear()
    await Promise.allSettled(all.map((p) => p.admin.close()))
  }

  #sweep(now: number): void {
    for (const [key, pooled] of this.#pool) {
      if (now - pooled.lastUsed > this.#idleMs) {
        this.#pool.delete(key)
        void pooled.admin.close().catch(() => {})
      }
    }
  }
}

function poolKey(brokers: readonly string[]): string {
  return [...brokers].sort().join(',')
}
