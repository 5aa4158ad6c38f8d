import { keyString } from './bytes.ts'
import type { BytesBackend, BytesEntry, BytesWrite, ChangelogCheckpoint } from './bytes-store.ts'
import { SortedKeyIndex } from './sorted-key-index.ts'

/**
 * The in-memory backend: a hash map for point reads plus a sorted key index for ranges. Nothing survives the
 * process, so the store has no checkpoint on disk and restores its whole changelog when its task opens; the
 * checkpoint it keeps in memory serves a standby task that keeps the store open across restore batches.
 */
export class MemoryBackend implements BytesBackend {
  readonly persistent = false
  readonly maxKeyBytes = Number.POSITIVE_INFINITY
  readonly location: string
  /** Entries keep the key's Buffer too: scans then allocate nothing per key. */
  readonly #entries = new Map<string, BytesEntry>()
  readonly #index = new SortedKeyIndex()
  #checkpoint: ChangelogCheckpoint | null = null
  #layout: string | null = null

  constructor(location: string) {
    this.location = location
  }

  get(key: Buffer): Buffer | undefined {
    return this.#entries.get(keyString(key))?.value
  }

  *range(from: Buffer | undefined, to: Buffer | undefined, reverse: boolean): Generator<BytesEntry, undefined> {
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

  approximateNumEntries(): number {
    return this.#entries.size
  }

  write(writes: Iterable<BytesWrite>, checkpoint: ChangelogCheckpoint | null): void {
    for (const { key, value } of writes) {
      const k = keyString(key)
      if (value === null) {
        if (this.#entries.delete(k)) this.#index.delete(k)
      } else {
        if (!this.#entries.has(k)) this.#index.insert(k)
        this.#entries.set(k, { key, value })
      }
    }
    if (checkpoint !== null) this.#checkpoint = checkpoint
  }

  checkpoint(): ChangelogCheckpoint | null {
    return this.#checkpoint
  }

  layout(): string | null {
    return this.#layout
  }

  setLayout(layout: string): void {
    this.#layout = layout
  }

  clear(): void {
    this.#entries.clear()
    this.#index.clear()
    this.#checkpoint = null
  }

  close(): void {
    this.clear()
  }
}
