import type { StreamlaneError } from '../errors.ts'
import { topicPartitionKey } from '../topic-partition.ts'
import { KafkaRequestError } from './errors.ts'
import type { ConsumedRecord } from './types.ts'

/**
 * The partition reader's bookkeeping, without I/O: per partition the position (next offset handed to the caller),
 * the records fetched but not yet taken, pause and backoff state; and the wait for new data.
 */
export class PartitionState {
  readonly topic: string
  readonly partition: number
  /** Next offset poll() returns. Negative: OFFSET_EARLIEST / OFFSET_LATEST still to be resolved. */
  position: bigint
  paused = false
  /** Bumped by seek: answers to requests sent before it are dropped. */
  version = 0
  inflight = false
  endOffset: bigint | undefined
  /** A failure poll() must report (out of range with policy `error`, unknown topic, unavailable too long). */
  error: StreamlaneError | undefined
  retryAt = 0
  attempts = 0
  failingSince: number | undefined
  #buffer: ConsumedRecord[] = []
  #index = 0
  #nextOffset: bigint | undefined

  constructor(topic: string, partition: number, position: bigint) {
    this.topic = topic
    this.partition = partition
    this.position = position
  }

  get buffered(): number {
    return this.#buffer.length - this.#index
  }

  /** Whether a fetch (or an offset reset) should be sent for this partition now. */
  fetchable(now: number): boolean {
    return !this.paused && !this.inflight && this.buffered === 0 && !this.error && this.retryAt <= now
  }

  seek(offset: bigint): void {
    this.position = offset
    this.version++
    this.#buffer = []
    this.#index = 0
    this.#nextOffset = undefined
    this.error = undefined
    this.succeeded()
  }

  succeeded(): void {
    this.retryAt = 0
    this.attempts = 0
    this.failingSince = undefined
  }

  /** Stores a fetch's records; a fetch of only skipped batches (markers, aborted) just moves the position. */
  fill(records: ConsumedRecord[], nextOffset: bigint | undefined): void {
    if (records.length === 0) {
      if (nextOffset !== undefined && nextOffset > this.position) this.position = nextOffset
      return
    }
    this.#buffer = records
    this.#index = 0
    this.#nextOffset = nextOffset
  }

  /** Moves up to `max` buffered records to `out`, advancing the position. */
  takeInto(out: ConsumedRecord[], max: number): void {
    const end = Math.min(this.#buffer.length, this.#index + max)
    for (let i = this.#index; i < end; i++) out.push(this.#buffer[i]!)
    if (end > this.#index) this.position = this.#buffer[end - 1]!.offset + 1n
    this.#index = end
    if (this.#index >= this.#buffer.length) {
      // Past the last record, the log may hold skipped control or aborted batches: continue after them.
      if (this.#nextOffset !== undefined && this.#nextOffset > this.position) this.position = this.#nextOffset
      this.#buffer = []
      this.#index = 0
      this.#nextOffset = undefined
    }
  }
}

export class ReaderState {
  readonly #partitions = new Map<string, PartitionState>()
  /** Rotates the partition poll() starts with, so one busy partition cannot starve the others. */
  #start = 0
  #waiters: (() => void)[] = []

  /**
   * Assigns a partition at `offset`. One assigned again starts afresh, as a new one would: at the offset and fetching
   * (a pause belonged to whoever read it before, and nobody would resume it).
   */
  add(topic: string, partition: number, offset: bigint): void {
    const existing = this.#partitions.get(topicPartitionKey(topic, partition))
    if (existing) {
      existing.seek(offset)
      existing.paused = false
    } else this.#partitions.set(topicPartitionKey(topic, partition), new PartitionState(topic, partition, offset))
  }

  remove(topic: string, partition: number): void {
    const state = this.#partitions.get(topicPartitionKey(topic, partition))
    if (state) state.version++
    this.#partitions.delete(topicPartitionKey(topic, partition))
  }

  get(topic: string, partition: number): PartitionState | undefined {
    return this.#partitions.get(topicPartitionKey(topic, partition))
  }

  require(topic: string, partition: number, operation: string): PartitionState {
    const state = this.get(topic, partition)
    if (!state) throw new KafkaRequestError(operation, `${topic}-${partition} is not assigned to this reader`)
    return state
  }

  all(): PartitionState[] {
    return [...this.#partitions.values()]
  }

  firstError(): StreamlaneError | undefined {
    for (const state of this.#partitions.values()) if (state.error) return state.error
    return undefined
  }

  nextRetryAt(): number | undefined {
    let next: number | undefined
    for (const state of this.#partitions.values()) {
      if (state.retryAt > Date.now() && !state.error && (next === undefined || state.retryAt < next))
        next = state.retryAt
    }
    return next
  }

  take(max: number): ConsumedRecord[] {
    const out: ConsumedRecord[] = []
    const states = this.all()
    if (states.length === 0) return out
    this.#start = (this.#start + 1) % states.length
    for (let i = 0; i < states.length && out.length < max; i++) {
      const state = states[(this.#start + i) % states.length]!
      if (!state.paused && state.buffered > 0) state.takeInto(out, max - out.length)
    }
    return out
  }

  /** Resolves when a fetch completes (or anything else wakes the readers), or after `ms`. */
  waitForData(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        const i = this.#waiters.indexOf(done)
        if (i >= 0) this.#waiters.splice(i, 1)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#waiters.push(done)
    })
  }

  wakeAll(): void {
    for (const wake of this.#waiters.splice(0)) wake()
  }
}
