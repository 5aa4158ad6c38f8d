import type { BytesEntry, BytesLayer } from './bytes-store.ts'
import { mergeOverlay } from './merge-iterator.ts'
import type { CacheEntry, NamedCache, RecordCache } from './record-cache.ts'

/** What the caching layer tells its store when it flushes an entry: bytes, deserialized by the typed store. */
export type BytesFlushListener = (
  key: Buffer,
  newValue: Buffer | null,
  oldValue: Buffer | null,
  timestamp: number
) => void

/**
 * Keeps a store's writes in the task's record cache until a flush (commit) or an eviction, then writes each key's
 * latest value to the layer below (the change-logging layer: one changelog record per key per flush) and forwards it
 * to the flush listener (the DSL processor, which forwards downstream). Reads merge the cache over the store.
 *
 * Reads do not populate the cache: an interactive query must never evict, and so never forward, anything.
 */
export class CachingLayer implements BytesLayer {
  readonly #inner: BytesLayer
  readonly #cache: NamedCache
  readonly #owner: RecordCache
  #listener: BytesFlushListener | null = null
  #sendOldValues = false

  /** `storeMadeKeys`: see `RecordCache.createNamedCache`. */
  constructor(inner: BytesLayer, cache: RecordCache, name: string, storeMadeKeys = false) {
    this.#inner = inner
    this.#owner = cache
    this.#cache = cache.createNamedCache(name, (entries) => this.#write(entries), storeMadeKeys)
  }

  setFlushListener(listener: BytesFlushListener, sendOldValues: boolean): void {
    this.#listener = listener
    this.#sendOldValues = sendOldValues
  }

  get(key: Buffer): Buffer | undefined {
    const entry = this.#cache.get(key)
    if (entry !== undefined) return entry.value ?? undefined
    return this.#inner.get(key)
  }

  put(key: Buffer, value: Buffer | null, timestamp: number): void {
    this.#cache.put(key, value, timestamp)
  }

  range(from: Buffer | undefined, to: Buffer | undefined, reverse: boolean): Iterator<BytesEntry> {
    if (this.#cache.size === 0) return this.#inner.range(from, to, reverse)
    return mergeOverlay(this.#cache.range(from, to, reverse), this.#inner.range(from, to, reverse), reverse)
  }

  approximateNumEntries(): number {
    return this.#inner.approximateNumEntries()
  }

  expireBefore(bound: Buffer): void {
    // Updates to windows that fall out of retention must still reach downstream before they go (a suppress waits
    // for exactly these to emit final results), as Kafka Streams' cache forwards every dirty entry.
    this.#cache.flush()
    this.#cache.expireBefore(bound)
    this.#inner.expireBefore(bound)
  }

  flush(): void {
    this.#cache.flush()
  }

  /** Drops cached updates (abort). */
  clear(): void {
    this.#cache.clear()
  }

  close(): void {
    this.#owner.release(this.#cache)
  }

  #write(entries: readonly CacheEntry[]): void {
    const listener = this.#listener
    for (const { key, value, timestamp, below } of entries) {
      if (listener === null) {
        this.#inner.put(key, value, timestamp)
        continue
      }
      // The value below is known when this key was flushed before and still cached: a hot key costs no read.
      const oldValue =
        value === null || this.#sendOldValues ? (below !== undefined ? below : (this.#inner.get(key) ?? null)) : null
      // Deleting a key the store never had: nothing to log, nothing to forward (as in Kafka Streams).
      if (value === null && oldValue === null) continue
      this.#inner.put(key, value, timestamp)
      listener(key, value, this.#sendOldValues ? oldValue : null, timestamp)
    }
  }
}
