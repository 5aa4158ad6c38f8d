/**
 * How long each input partition of a group stood still: sampled every `intervalMs` from the group's committed
 * offsets and the topic's end offsets. A partition stands still while it has records waiting (committed < end) and
 * its committed offset does not move; its pause ends when the offset moves again. The committed offset moves once
 * per commit interval, so a partition that is processed normally shows pauses of about that interval.
 */
import type { KafkaAdmin } from '../../src/kafka/admin.ts'

export interface PartitionPause {
  partition: number
  /** Longest time without progress while records waited, in ms. */
  longestMs: number
  /** When that longest pause began (epoch ms). */
  startedAt: number
}

export class PartitionPauseMonitor {
  readonly #admin: KafkaAdmin
  readonly #group: string
  readonly #topic: string
  readonly #intervalMs: number
  /** Per partition: last committed offset seen and since when the partition has been waiting without progress. */
  readonly #state = new Map<number, { committed: bigint; waitingSince: number | undefined }>()
  readonly #longest = new Map<number, PartitionPause>()
  /** Per partition: when its committed offset first moved after `watchMoves()`. */
  readonly #firstMove = new Map<number, number>()
  /** Samples requested from this time on note first moves; undefined: not watching. */
  #watchFrom: number | undefined
  /** Per partition: its committed offset in the first sample requested after `watchMoves()`; moves count from it. */
  readonly #baseline = new Map<number, bigint>()
  #from = 0
  #running = true
  #loop: Promise<void> = Promise.resolve()
  /** Samples that failed (the broker was busy): reported, so a gap in the data is not mistaken for a pause. */
  failedSamples = 0

  constructor(admin: KafkaAdmin, group: string, topic: string, intervalMs = 100) {
    this.#admin = admin
    this.#group = group
    this.#topic = topic
    this.#intervalMs = intervalMs
  }

  start(): this {
    this.#loop = this.#run()
    return this
  }

  /** Forget the pauses seen so far: from now on only pauses that end after this count (e.g. from the event on). */
  reset(): void {
    this.#longest.clear()
    this.#from = Date.now()
  }

  /** From now on, note when each partition's committed offset first moves (`firstMoves`): e.g. from an event on. */
  watchMoves(): void {
    this.#firstMove.clear()
    this.#baseline.clear()
    this.#watchFrom = Date.now()
  }

  /** When each partition's committed offset first moved since `watchMoves()` (epoch ms). */
  firstMoves(): ReadonlyMap<number, number> {
    return this.#firstMove
  }

  async stop(): Promise<PartitionPause[]> {
    this.#running = false
    await this.#loop
    // A pause still going on counts up to now.
    const now = Date.now()
    for (const [partition, state] of this.#state)
      if (state.waitingSince !== undefined) this.#record(partition, state.waitingSince, now)
    return [...this.#longest.values()].sort((a, b) => a.partition - b.partition)
  }

  /** The partition that stood still longest since the last reset (undefined before any pause). */
  longest(): PartitionPause | undefined {
    let worst: PartitionPause | undefined
    for (const pause of this.#longest.values()) if (!worst || pause.longestMs > worst.longestMs) worst = pause
    return worst
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const started = Date.now()
      try {
        await this.#sample()
      } catch {
        this.failedSamples++
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, this.#intervalMs - (Date.now() - started))))
    }
  }

  async #sample(): Promise<void> {
    const requestedAt = Date.now()
    const [committed, ends] = await Promise.all([
      this.#admin.fetchGroupOffsets(this.#group, [this.#topic]),
      this.#admin.listOffsets([{ topic: this.#topic }], 'latest')
    ])
    const now = Date.now()
    for (const { partition, offset } of committed) {
      const end = ends.get(this.#topic)?.get(partition) ?? 0n
      const state = this.#state.get(partition) ?? { committed: -1n, waitingSince: undefined }
      const moved = offset !== state.committed
      // A sample requested before watchMoves(), or the first one after it, may show a commit made before it.
      if (this.#watchFrom !== undefined && requestedAt >= this.#watchFrom) {
        const baseline = this.#baseline.get(partition)
        if (baseline === undefined) this.#baseline.set(partition, offset)
        else if (offset !== baseline && !this.#firstMove.has(partition)) this.#firstMove.set(partition, now)
      }
      if (moved || offset >= end) {
        // Progress (or nothing to do): a pause that was going on ends here.
        if (state.waitingSince !== undefined) this.#record(partition, state.waitingSince, now)
        state.waitingSince = offset >= end ? undefined : now
      } else if (state.waitingSince === undefined) {
        state.waitingSince = now
      }
      state.committed = offset
      this.#state.set(partition, state)
    }
  }

  #record(partition: number, since: number, now: number): void {
    const from = Math.max(since, this.#from)
    const longestMs = now - from
    const known = this.#longest.get(partition)
    if (!known || longestMs > known.longestMs) this.#longest.set(partition, { partition, longestMs, startedAt: from })
  }
}
