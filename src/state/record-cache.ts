import { keyString } from './bytes.ts'
import type { OverlayEntry } from './merge-iterator.ts'
import { SortedKeyIndex } from './sorted-key-index.ts'

/**
 * The record cache of one task (Kafka Streams' ThreadCache, per task here): a byte budget shared by the cached
 * stores of the task, each with its own `NamedCache`. Between commits it absorbs repeated updates of a key, so a
 * count over a hot key sends one changelog record and one downstream update per commit instead of one per input.
 *
 * Size: an entry costs its key and value bytes plus ENTRY_OVERHEAD_BYTES for the JavaScript objects around them.
 * When a put takes the total over `maxBytes`, the written store's cache evicts its least recently used entries
 * until the total fits or that cache is empty (as Kafka Streams does: a put never evicts another store's entries).
 */
export const ENTRY_OVERHEAD_BYTES = 100

export interface CacheEntry {
  readonly key: Buffer
  readonly value: Buffer | null
  readonly timestamp: number
  dirty: boolean
}

/** Receives the dirty entries of a flush or eviction, the evicted one first, then by last update. */
export type DirtyEntriesHandler = (entries: readonly CacheEntry[]) => void

export class RecordCache {
  readonly maxBytes: number
  #bytes = 0
  readonly #caches = new Set<NamedCache>()
  /** Entries evicted (for metrics and tests). */
  evictions = 0

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes
  }

  get sizeBytes(): number {
    return this.#bytes
  }

  createNamedCache(name: string, onDirty: DirtyEntriesHandler): NamedCache {
    const cache = new NamedCache(name, this, onDirty)
    this.#caches.add(cache)
    return cache
  }

  release(cache: NamedCache): void {
    if (this.#caches.delete(cache)) cache.clear()
  }

  /** @internal size bookkeeping of the named caches */
  adjust(delta: number): void {
    this.#bytes += delta
  }

  /** @internal called by a named cache after a put */
  maybeEvict(cache: NamedCache): void {
    while (this.#bytes > this.maxBytes) {
      if (cache.size === 0) return
      cache.evictEldest()
      this.evictions++
    }
  }
}

/**
 * One store's slice of the cache: entries in LRU order (a Map keeps insertion order; a touch re-inserts), a sorted
 * index so ranges can merge cached entries over the store, and the dirty keys in the order of their LAST update.
 * That order is Kafka Streams' (NamedCache.put removes and re-adds a dirty key): a flush then forwards each key's
 * latest value in the order those latest updates happened, so forwarded timestamps stay in processing order.
 */
export class NamedCache {
  readonly name: string
  readonly #owner: RecordCache
  readonly #onDirty: DirtyEntriesHandler
  readonly #entries = new Map<string, CacheEntry>()
  readonly #index = new SortedKeyIndex()
  readonly #dirty = new Set<string>()

  constructor(name: string, owner: RecordCache, onDirty: DirtyEntriesHandler) {
    this.name = name
    this.#owner = owner
    this.#onDirty = onDirty
  }

  get size(): number {
    return this.#entries.size
  }

  get dirtyCount(): number {
    return this.#dirty.size
  }

  get(key: Buffer): CacheEntry | undefined {
    const k = keyString(key)
    const entry = this.#entries.get(k)
    if (entry !== undefined) {
      this.#entries.delete(k)
      this.#entries.set(k, entry)
    }
    return entry
  }

  put(key: Buffer, value: Buffer | null, timestamp: number): void {
    const k = keyString(key)
    const previous = this.#entries.get(k)
    if (previous === undefined) {
      this.#index.insert(k)
    } else {
      this.#entries.delete(k)
      this.#owner.adjust(-sizeOf(previous))
    }
    const entry: CacheEntry = { key, value, timestamp, dirty: true }
    this.#entries.set(k, entry)
    this.#owner.adjust(sizeOf(entry))
    this.#dirty.delete(k)
    this.#dirty.add(k)
    this.#owner.maybeEvict(this)
  }

  /** Sorted cached entries in [from, to] (inclusive, `undefined` = open), without touching LRU order. */
  *range(from: Buffer | undefined, to: Buffer | undefined, reverse: boolean): Generator<OverlayEntry, undefined> {
    const keys = this.#index.range(
      from === undefined ? undefined : keyString(from),
      to === undefined ? undefined : keyString(to),
      reverse
    )
    for (const key of keys) {
      const entry = this.#entries.get(key)
      if (entry !== undefined) yield entry
    }
  }

  /** Hands every dirty entry to the store (which writes it below and forwards it), then drops cached deletes. */
  flush(): void {
    this.#flush(undefined)
  }

  evictEldest(): void {
    const eldest = this.#entries.keys().next()
    if (eldest.done) return
    const entry = this.#remove(eldest.value)!
    if (entry.dirty) this.#flush(entry)
  }

  /** Drops entries below `bound` without forwarding them: they belong to expired windows. */
  expireBefore(bound: Buffer): void {
    const doomed: string[] = []
    for (const key of this.#index.range(undefined, keyString(bound), false)) {
      if (Buffer.compare(this.#entries.get(key)!.key, bound) < 0) doomed.push(key)
    }
    for (const key of doomed) this.#remove(key)
  }

  /** Forgets everything, dirty entries included: an aborted transaction's updates must never be forwarded. */
  clear(): void {
    let bytes = 0
    for (const entry of this.#entries.values()) bytes += sizeOf(entry)
    this.#owner.adjust(-bytes)
    this.#entries.clear()
    this.#index.clear()
    this.#dirty.clear()
  }

  #flush(evicted: CacheEntry | undefined): void {
    if (evicted === undefined && this.#dirty.size === 0) return
    const batch: CacheEntry[] = []
    if (evicted !== undefined) batch.push(evicted)
    const deletes: string[] = []
    for (const key of this.#dirty) {
      const entry = this.#entries.get(key)
      if (entry === undefined) continue
      entry.dirty = false
      batch.push(entry)
      if (entry.value === null) deletes.push(key)
    }
    // Cleared before the handler runs: it forwards downstream, and downstream may write to this store again.
    this.#dirty.clear()
    this.#onDirty(batch)
    for (const key of deletes) {
      const entry = this.#entries.get(key)
      if (entry !== undefined && !entry.dirty && entry.value === null) this.#remove(key)
    }
  }

  #remove(key: string): CacheEntry | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    this.#entries.delete(key)
    this.#index.delete(key)
    this.#dirty.delete(key)
    this.#owner.adjust(-sizeOf(entry))
    return entry
  }
}

function sizeOf(entry: CacheEntry): number {
  return entry.key.length + (entry.value?.length ?? 0) + ENTRY_OVERHEAD_BYTES
}
