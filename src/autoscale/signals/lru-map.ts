/**
 * A Map bounded by entry count and, optionally, by bytes, that evicts the least recently used entry first. Every
 * state the scaler keeps for a caller-chosen key (a report per group and instance, policy state per ScaledObject, rate
 * history per query) lives in one, so no caller can grow the process without limit: the bound holds however many
 * distinct keys arrive, and each eviction is counted (`onEvict`) for the operator's metric.
 */
export interface LruMapOptions<K, V> {
  maxEntries: number
  /** Bound on the sum of sizeOf(value); needs sizeOf. */
  maxBytes?: number
  sizeOf?: (value: V) => number
  /** An entry this returns false for (work in flight) is skipped by eviction; the bound may then be exceeded briefly. */
  evictable?: (value: V) => boolean
  onEvict?: (key: K, value: V) => void
}

export class LruMap<K, V> {
  readonly #options: LruMapOptions<K, V>
  readonly #map = new Map<K, { value: V; bytes: number }>()
  #bytes = 0

  constructor(options: LruMapOptions<K, V>) {
    if (!(options.maxEntries >= 1)) throw new RangeError(`maxEntries must be >= 1, got ${options.maxEntries}`)
    this.#options = options
  }

  get size(): number {
    return this.#map.size
  }

  /** Sum of sizeOf over the entries (0 without sizeOf). */
  get bytes(): number {
    return this.#bytes
  }

  /** The value, marked as most recently used. */
  get(key: K): V | undefined {
    const entry = this.#map.get(key)
    if (!entry) return undefined
    this.#map.delete(key)
    this.#map.set(key, entry)
    return entry.value
  }

  /** The value, without changing its recency. */
  peek(key: K): V | undefined {
    return this.#map.get(key)?.value
  }

  has(key: K): boolean {
    return this.#map.has(key)
  }

  set(key: K, value: V): void {
    this.delete(key)
    const bytes = this.#options.sizeOf?.(value) ?? 0
    this.#map.set(key, { value, bytes })
    this.#bytes += bytes
    this.#evict(key)
  }

  delete(key: K): boolean {
    const entry = this.#map.get(key)
    if (!entry) return false
    this.#map.delete(key)
    this.#bytes -= entry.bytes
    return true
  }

  clear(): void {
    this.#map.clear()
    this.#bytes = 0
  }

  /** Entries from least to most recently used. */
  *entries(): IterableIterator<[K, V]> {
    for (const [key, entry] of this.#map) yield [key, entry.value]
  }

  #over(): boolean {
    const { maxEntries, maxBytes } = this.#options
    return this.#map.size > maxEntries || (maxBytes !== undefined && this.#bytes > maxBytes)
  }

  /** Drops least recently used entries until within bounds; the entry just set stays even when alone it is too big. */
  #evict(justSet: K): void {
    if (!this.#over()) return
    for (const [key, entry] of this.#map) {
      if (!this.#over()) return
      if (key === justSet) continue
      if (this.#options.evictable && !this.#options.evictable(entry.value)) continue
      this.delete(key)
      this.#options.onEvict?.(key, entry.value)
    }
  }
}
