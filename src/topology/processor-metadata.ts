/**
 * Numbers processors keep with a task's committed offsets, by key (Kafka Streams' ProcessorMetadata): today the last
 * window close time an emit-on-window-close aggregation emitted, keyed by its store's name, so that a restarted or
 * moved task does not emit closed windows again. Committed with every input partition of the task while changed.
 */
export class ProcessorMetadata {
  readonly #values = new Map<string, number>()
  #changed = false

  get(key: string): number | undefined {
    return this.#values.get(key)
  }

  put(key: string, value: number): void {
    this.#values.set(key, value)
    this.#changed = true
  }

  /** Takes the larger value per key, as Kafka Streams does when a task has several partitions' metadata to start from. */
  merge(entries: Iterable<readonly [string, number]>): void {
    for (const [key, value] of entries) {
      const known = this.#values.get(key)
      if (known === undefined || known < value) this.#values.set(key, value)
    }
  }

  entries(): IterableIterator<[string, number]> {
    return this.#values.entries()
  }

  /** Changed since the last commit: then every input partition of the task commits it, not only those that moved. */
  get needsCommit(): boolean {
    return this.#changed
  }

  committed(): void {
    this.#changed = false
  }
}
