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
  /**
   * What the store below the cache holds for this key, when the cache knows it without reading: the value of the
   * entry this one replaced, if that one had been flushed (a flush writes each entry below). `undefined`: unknown,
   * read it below.
   */
  readonly below: Buffer | null | undefined
}

/** Receives the dirty entries of a flush or eviction, the evicted one first, then by last update. */
export type DirtyEntriesHandler = (entries: readonly CacheEntry[]) => void

/**
 * A cache entry is also a node of two intrusive doubly-linked lists: the store's LRU order and its dirty keys in
 * the order of their last update. A `Map` that re-inserts a key on every touch would do the same, but each delete
 * leaves a hole its iterator walks over again: finding the eldest entry (`keys().next()`) then costs a walk over
 * every hole since the last rehash, which made eviction the top of the profile at a million keys.
 */
interface Node extends CacheEntry {
  /** The key as the entries map knows it (latin1, see bytes.ts). */
  readonly id: string
  dirty: boolean
  older: Node | null
  newer: Node | null
  /** Neighbours in the dirty list; meaningful only while `dirty`. */
  dirtyOlder: Node | null
  dirtyNewer: Node | null
}

export class RecordCache {
  readonly maxBytes: number
  #bytes = 0
  readonly #caches = new Set<NamedCache>()
  readonly #releasedReads = new Map<string, { hits: number; misses: number }>()
  /** Entries evicted (for metrics and tests). */
  evictions = 0

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes
  }

  get sizeBytes(): number {
    return this.#bytes
  }

  /**
   * `storeMadeKeys`: the store hands the cache only key Buffers it built itself and never changes (window and
   * session stores' physical keys), so a put of the Buffer the last get was given may reuse that get's key string.
   * A key-value store with the bytes serde hands over the caller's own Buffers, which the caller might change.
   */
  createNamedCache(name: string, onDirty: DirtyEntriesHandler, storeMadeKeys = false): NamedCache {
    const cache = new NamedCache(name, this, onDirty, storeMadeKeys)
    this.#caches.add(cache)
    return cache
  }

  /** Reads answered by each store's slice of the cache, and reads it could not answer, for metrics. */
  stats(): { name: string; hits: number; misses: number }[] {
    const reads = new Map(this.#releasedReads)
    for (const cache of this.#caches) {
      const before = reads.get(cache.name)
      reads.set(cache.name, { hits: (before?.hits ?? 0) + cache.hits, misses: (before?.misses ?? 0) + cache.misses })
    }
    return [...reads].map(([name, { hits, misses }]) => ({ name, hits, misses }))
  }

  release(cache: NamedCache): void {
    if (!this.#caches.delete(cache)) return
    cache.clear()
    // Its reads still count: a task's stores close before the task's metrics are added to the instance's totals.
    const before = this.#releasedReads.get(cache.name)
    this.#releasedReads.set(cache.name, {
      hits: (before?.hits ?? 0) + cache.hits,
      misses: (before?.misses ?? 0) + cache.misses
    })
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
 * One store's slice of the cache: entries in LRU order (a touch moves an entry to the newest end), a sorted index so
 * ranges can merge cached entries over the store, and the dirty keys in the order of their LAST update. That order
 * is Kafka Streams' (NamedCache.put removes and re-adds a dirty key): a flush then forwards each key's latest value in
 * the order those latest updates happened, so forwarded timestamps stay in processing order.
 */
export class NamedCache {
  readonly name: string
  readonly #owner: RecordCache
  readonly #onDirty: DirtyEntriesHandler
  readonly #entries = new Map<string, Node>()
  /**
   * Sorted keys for ranges, built on the first range and kept up to date from then on. A store that is only read and
   * written by key (counts, aggregates) never scans, and then never pays for keeping its keys sorted.
   */
  #index: SortedKeyIndex | null = null
  /** LRU list: `#eldest` is evicted first, `#newest` was touched last. */
  #eldest: Node | null = null
  #newest: Node | null = null
  /** Dirty list, by last update. */
  #dirtyOldest: Node | null = null
  #dirtyNewest: Node | null = null
  #dirtyCount = 0
  /**
   * Whether a clean entry's value is known to be what the store below holds. Not while a flush handler runs (it
   * writes the batch below one entry at a time, and a put it makes may land before its key's turn), and no longer
   * after a handler threw midway (some clean entries were never written) until `clear()`.
   */
  #flushedIsBelow = true
  #flushing = false
  /**
   * With store-made keys, the key of the last `get` and its string: a windowed aggregation puts the very Buffer it
   * read, and then needs neither a second string nor its hash (V8 keeps a string's hash on the string). This was
   * 0.35 of the 2.2 µs CPU per record a cached window store's fetch + put cost (1M records, 16,667 keys).
   */
  readonly #storeMadeKeys: boolean
  #lastKey: Buffer | null = null
  #lastId = ''

  constructor(name: string, owner: RecordCache, onDirty: DirtyEntriesHandler, storeMadeKeys: boolean) {
    this.name = name
    this.#owner = owner
    this.#onDirty = onDirty
    this.#storeMadeKeys = storeMadeKeys
  }

  /** `get` calls that found the key cached, and those that did not (for the cache hit ratio metric). */
  hits = 0
  misses = 0

  get size(): number {
    return this.#entries.size
  }

  get dirtyCount(): number {
    return this.#dirtyCount
  }

  get(key: Buffer): CacheEntry | undefined {
    const id = keyString(key)
    if (this.#storeMadeKeys) {
      this.#lastKey = key
      this.#lastId = id
    }
    const node = this.#entries.get(id)
    if (node === undefined) this.misses++
    else this.hits++
    if (node !== undefined && node !== this.#newest) {
      this.#unlink(node)
      this.#append(node)
    }
    return node
  }

  put(key: Buffer, value: Buffer | null, timestamp: number): void {
    const id = key === this.#lastKey ? this.#lastId : keyString(key)
    const previous = this.#entries.get(id)
    let below: Buffer | null | undefined
    if (previous === undefined) {
      this.#index?.insert(id)
    } else {
      this.#unlink(previous)
      if (previous.dirty) this.#unlinkDirty(previous)
      this.#owner.adjust(-sizeOf(previous))
      below = previous.dirty ? previous.below : this.#flushedIsBelow && !this.#flushing ? previous.value : undefined
    }
    const node: Node = {
      key,
      value,
      timestamp,
      dirty: true,
      below,
      id,
      older: null,
      newer: null,
      dirtyOlder: null,
      dirtyNewer: null
    }
    this.#entries.set(id, node)
    this.#append(node)
    this.#appendDirty(node)
    this.#owner.adjust(sizeOf(node))
    this.#owner.maybeEvict(this)
  }

  /** Sorted cached entries in [from, to] (inclusive, `undefined` = open), without touching LRU order. */
  *range(from: Buffer | undefined, to: Buffer | undefined, reverse: boolean): Generator<OverlayEntry, undefined> {
    const keys = this.#sorted().range(
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
    const eldest = this.#eldest
    if (eldest === null) return
    this.#remove(eldest)
    if (eldest.dirty) this.#flush(eldest)
  }

  /** Drops entries below `bound` without forwarding them: they belong to expired windows. */
  expireBefore(bound: Buffer): void {
    const doomed: Node[] = []
    for (const key of this.#sorted().range(undefined, keyString(bound), false)) {
      const node = this.#entries.get(key)!
      if (Buffer.compare(node.key, bound) < 0) doomed.push(node)
    }
    for (const node of doomed) this.#remove(node)
  }

  /** Forgets everything, dirty entries included: an aborted transaction's updates must never be forwarded. */
  clear(): void {
    let bytes = 0
    for (const entry of this.#entries.values()) bytes += sizeOf(entry)
    this.#owner.adjust(-bytes)
    this.#entries.clear()
    this.#index = null
    this.#eldest = this.#newest = null
    this.#dirtyOldest = this.#dirtyNewest = null
    this.#dirtyCount = 0
    this.#lastKey = null
    // Nothing cached is left to vouch for the store below.
    this.#flushedIsBelow = true
  }

  /** `evicted` was removed already (it is no longer in the dirty list); it goes first. */
  #flush(evicted: Node | undefined): void {
    if (evicted === undefined && this.#dirtyCount === 0) return
    const batch: CacheEntry[] = []
    if (evicted !== undefined) batch.push(evicted)
    let deletes = false
    for (let node = this.#dirtyOldest; node !== null; node = node.dirtyNewer) {
      node.dirty = false
      batch.push(node)
      if (node.value === null) deletes = true
    }
    // Cleared before the handler runs: it forwards downstream, and downstream may write to this store again.
    this.#dirtyOldest = this.#dirtyNewest = null
    this.#dirtyCount = 0
    const nested = this.#flushing
    this.#flushing = true
    let written = false
    try {
      this.#onDirty(batch)
      written = true
    } finally {
      this.#flushing = nested
      if (!written) this.#flushedIsBelow = false
    }
    if (!deletes) return
    for (let i = evicted === undefined ? 0 : 1; i < batch.length; i++) {
      const flushed = batch[i] as Node
      if (flushed.value !== null) continue
      // A key whose cached entry is (still, or again) a clean delete is dropped from the cache.
      const node = this.#entries.get(flushed.id)
      if (node !== undefined && !node.dirty && node.value === null) this.#remove(node)
    }
  }

  #remove(node: Node): void {
    this.#entries.delete(node.id)
    this.#index?.delete(node.id)
    this.#unlink(node)
    if (node.dirty) this.#unlinkDirty(node)
    this.#owner.adjust(-sizeOf(node))
  }

  #sorted(): SortedKeyIndex {
    if (this.#index === null) {
      this.#index = new SortedKeyIndex()
      // Default sort compares UTF-16 code units: for latin1 key strings, unsigned byte order (see bytes.ts).
      for (const id of [...this.#entries.keys()].sort()) this.#index.insert(id)
    }
    return this.#index
  }

  #append(node: Node): void {
    node.older = this.#newest
    node.newer = null
    if (this.#newest === null) this.#eldest = node
    else this.#newest.newer = node
    this.#newest = node
  }

  #unlink(node: Node): void {
    if (node.older === null) this.#eldest = node.newer
    else node.older.newer = node.newer
    if (node.newer === null) this.#newest = node.older
    else node.newer.older = node.older
    node.older = node.newer = null
  }

  #appendDirty(node: Node): void {
    node.dirtyOlder = this.#dirtyNewest
    node.dirtyNewer = null
    if (this.#dirtyNewest === null) this.#dirtyOldest = node
    else this.#dirtyNewest.dirtyNewer = node
    this.#dirtyNewest = node
    this.#dirtyCount++
  }

  #unlinkDirty(node: Node): void {
    if (node.dirtyOlder === null) this.#dirtyOldest = node.dirtyNewer
    else node.dirtyOlder.dirtyNewer = node.dirtyNewer
    if (node.dirtyNewer === null) this.#dirtyNewest = node.dirtyOlder
    else node.dirtyNewer.dirtyOlder = node.dirtyOlder
    node.dirtyOlder = node.dirtyNewer = null
    this.#dirtyCount--
  }
}

function sizeOf(entry: CacheEntry): number {
  return entry.key.length + (entry.value?.length ?? 0) + ENTRY_OVERHEAD_BYTES
}
