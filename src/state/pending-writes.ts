import { keyString } from './bytes.ts'
import type { BytesBackend, BytesEntry, BytesLayer, BytesWrite, ChangelogCheckpoint } from './bytes-store.ts'
import { mergeOverlay, type OverlayEntry } from './merge-iterator.ts'
import { SortedKeyIndex } from './sorted-key-index.ts'

interface PendingEntry extends OverlayEntry {
  /**
   * Whether the backend had the key when the batch first touched it; `undefined` until something needs to know
   * (only `approximateNumEntries`): the backend does not change while a batch is open, so asking late gives the same
   * answer, and a batch that is committed without being counted never reads the backend for it.
   */
  existed: boolean | undefined
}

/** How committing `entry` changes the backend's entry count; its `existed` must be known. */
function countChange(entry: PendingEntry): number {
  if (entry.existed) return entry.value === null ? -1 : 0
  return entry.value === null ? 0 : 1
}

/**
 * The write batch between commits: the layer that makes local state durable only together with Kafka.
 *
 * Every write since the last commit stays here, in memory; reads merge it over the backend (read-your-writes).
 * `commit(checkpoint)` applies the batch and the changelog offset to the backend in ONE atomic write (one LMDB
 * transaction), which the runtime calls only after the Kafka transaction (exactly-once) or the changelog acks and
 * offset commit (at-least-once) succeeded. So the backend never holds a write whose changelog record is not durable,
 * and its checkpoint always says exactly which changelog prefix it contains: after a SIGKILL the task restores only
 * the changelog from that checkpoint on, never everything. `abort()` drops the batch: the store is back at its last
 * commit, which is what an aborted Kafka transaction needs.
 *
 * The batch holds at most one entry per key (the latest), so its size is bounded by the keys touched per commit
 * interval; `pendingBytes` lets the runtime commit early when that grows large.
 */
export class PendingWrites implements BytesLayer {
  readonly backend: BytesBackend
  readonly #writes = new Map<string, PendingEntry>()
  /**
   * Sorted keys for reads over ranges, built on the first one and kept up to date until the batch ends. A batch that
   * is only written and read by key (counts, aggregates) is sorted once, at commit, which is cheaper than keeping an
   * index sorted through every insert.
   */
  #index: SortedKeyIndex | null = null
  #bytes = 0
  /** How the batch changes the backend's entry count once committed, over the entries whose `existed` is known. */
  #countDelta = 0
  /** Entries whose `existed` is not known yet. */
  #uncounted = 0

  constructor(backend: BytesBackend) {
    this.backend = backend
  }

  get hasWrites(): boolean {
    return this.#writes.size > 0
  }

  /** Approximate memory the batch holds: key and value bytes. */
  get pendingBytes(): number {
    return this.#bytes
  }

  get(key: Buffer): Buffer | undefined {
    const pending = this.#writes.get(keyString(key))
    if (pending !== undefined) return pending.value ?? undefined
    return this.backend.get(key)
  }

  put(key: Buffer, value: Buffer | null): void {
    const k = keyString(key)
    const previous = this.#writes.get(k)
    let existed: boolean | undefined
    if (previous === undefined) {
      this.#index?.insert(k)
      this.#uncounted++
    } else {
      existed = previous.existed
      this.#bytes -= previous.key.length + (previous.value?.length ?? 0)
      if (existed !== undefined) this.#countDelta -= countChange(previous)
    }
    const entry: PendingEntry = { key, value, existed }
    this.#writes.set(k, entry)
    this.#bytes += key.length + (value?.length ?? 0)
    if (existed !== undefined) this.#countDelta += countChange(entry)
  }

  range(from: Buffer | undefined, to: Buffer | undefined, reverse: boolean): Iterator<BytesEntry> {
    if (this.#writes.size === 0) return this.backend.range(from, to, reverse)
    return mergeOverlay(this.#overlay(from, to, reverse), this.backend.range(from, to, reverse), reverse)
  }

  approximateNumEntries(): number {
    if (this.#uncounted > 0) {
      for (const entry of this.#writes.values()) {
        if (entry.existed !== undefined) continue
        entry.existed = this.backend.get(entry.key) !== undefined
        this.#countDelta += countChange(entry)
      }
      this.#uncounted = 0
    }
    return this.backend.approximateNumEntries() + this.#countDelta
  }

  expireBefore(bound: Buffer): void {
    const doomed: Buffer[] = []
    const base = this.backend.range(undefined, undefined, false)
    try {
      for (let step = base.next(); !step.done; step = base.next()) {
        if (Buffer.compare(step.value.key, bound) >= 0) break
        doomed.push(step.value.key)
      }
    } finally {
      base.return?.()
    }
    for (const key of this.#sortedIndex().range(undefined, keyString(bound), false)) {
      const entry = this.#writes.get(key)!
      if (Buffer.compare(entry.key, bound) < 0) doomed.push(entry.key)
    }
    for (const key of doomed) this.put(key, null)
  }

  /** Applies the batch and the checkpoint to the backend atomically, then starts a new batch. */
  commit(checkpoint: ChangelogCheckpoint | null): void {
    if (this.#writes.size === 0 && checkpoint === null) return
    // In key order: LMDB inserts into neighbouring pages instead of jumping around the B-tree.
    this.backend.write(this.#sorted(), checkpoint)
    this.#reset()
  }

  /** Forgets every write since the last commit. */
  abort(): void {
    this.#reset()
  }

  #reset(): void {
    this.#writes.clear()
    this.#index = null
    this.#bytes = 0
    this.#countDelta = 0
    this.#uncounted = 0
  }

  #sorted(): BytesWrite[] {
    const writes = this.#writes
    const sorted: BytesWrite[] = []
    if (this.#index !== null) {
      for (const key of this.#index.range(undefined, undefined, false)) sorted.push(writes.get(key)!)
      return sorted
    }
    // Default sort compares UTF-16 code units: for latin1 key strings, unsigned byte order (see bytes.ts).
    for (const key of [...writes.keys()].sort()) sorted.push(writes.get(key)!)
    return sorted
  }

  #sortedIndex(): SortedKeyIndex {
    if (this.#index === null) {
      this.#index = new SortedKeyIndex()
      for (const key of [...this.#writes.keys()].sort()) this.#index.insert(key)
    }
    return this.#index
  }

  *#overlay(from: Buffer | undefined, to: Buffer | undefined, reverse: boolean): Generator<OverlayEntry, undefined> {
    const keys = this.#sortedIndex().range(
      from === undefined ? undefined : keyString(from),
      to === undefined ? undefined : keyString(to),
      reverse
    )
    for (const key of keys) {
      const entry = this.#writes.get(key)
      if (entry !== undefined) yield entry
    }
  }
}
