import type { CachedStore, KeyValue, KeyValueIterator, ValueAndTimestamp, Windowed } from '../state/index.ts'
import type { ProcessorContext, StreamRecord } from '../topology/index.ts'
import { forEachInOrder, ProcessorMetadata } from '../topology/index.ts'
import type { Change } from './change.ts'

/**
 * When a windowed aggregation emits (Kafka Streams' `EmitStrategy`, KIP-825): `onWindowUpdate` (the default) forwards
 * every update of a window, through the record cache; `onWindowClose` forwards each window once, with its final
 * aggregate, when stream time passes its end plus the grace period, and nothing before.
 */
export interface EmitStrategy {
  readonly type: 'onWindowUpdate' | 'onWindowClose'
}

export const EmitStrategy = {
  onWindowUpdate: (): EmitStrategy => ({ type: 'onWindowUpdate' }),
  onWindowClose: (): EmitStrategy => ({ type: 'onWindowClose' })
} as const

/**
 * How often, at most, closed windows are looked for, by the wall clock: Kafka Streams' internal
 * `emit.interval.ms.kstreams.windowed.aggregation`, 1000 ms (closing windows come out in batches, at most once a
 * second), 0 in the test driver, as in Kafka Streams' (the task's `windowCloseEmitIntervalMs`).
 */
function emitIntervalMs(context: ProcessorContext<unknown, unknown>): number {
  return (context as { windowCloseEmitIntervalMs?: number }).windowCloseEmitIntervalMs ?? 1000
}

/** Kafka Streams' ConsumerRecord.NO_TIMESTAMP: nothing emitted yet. */
const NONE = -1

/** What one kind of window (time, sliding, session) says about the windows a close time closes. */
export interface ClosedWindows<K, VA> {
  /** The inclusive bounds to fetch, from the last close time emitted (NONE before the first) and the new one. */
  lower(lastCloseTime: number): number
  upper(closeTime: number): number
  /** False when the new bounds cover no window that was not emitted (time windows skip the fetch then). */
  worthFetching(lower: number, upper: number, lastCloseTime: number): boolean
  /**
   * The closed windows in Kafka Streams' time-ordered store order, with the aggregate and the timestamp to emit, as
   * Kafka Streams' store shows them when its stream time (the largest window start or session end written to it) is
   * `storeTime`: it no longer shows what fell out of its retention.
   */
  fetch(
    lower: number,
    upper: number,
    storeTime: number
  ): readonly { key: Windowed<K>; value: VA | null; timestamp: number }[]
}

/** The largest window start or session end written to one of Streamlane's window or session stores. */
function storeTimeOf(store: unknown): number {
  return (store as { observedStreamTime?: number }).observedStreamTime ?? -1
}

/**
 * Kafka Streams' emit-on-window-close for one aggregation processor: after each record (its windows updated or the
 * record found late), if the wall-clock throttle allows and the close time moved on, every window closed since the
 * last emission is forwarded once, as `{ newValue: aggregate, oldValue: null }` with the headers of the record that
 * triggered it. The last close time emitted is processor metadata under the store's name, committed with the task's
 * offsets as Kafka Streams does, so a restarted or moved task does not emit the windows it closed before again.
 */
export class WindowCloseEmitter<K, VA> {
  readonly #context: ProcessorContext<Windowed<K>, Change<VA>>
  readonly #windows: ClosedWindows<K, VA>
  readonly #store: unknown
  readonly #cached: boolean
  readonly #metadata: ProcessorMetadata
  readonly #metadataKey: string
  #lastCloseTime = NONE
  #nextTimeToEmit = 0
  #storeTimeBefore = -1

  /**
   * `store` is the aggregation's; `cached` whether it has a record cache. Kafka Streams' cached store writes a
   * record's updates down at the next commit, so while the record is processed its store time is that of the records
   * before (its test driver commits after every record, which this follows).
   */
  constructor(
    context: ProcessorContext<Windowed<K>, Change<VA>>,
    windows: ClosedWindows<K, VA>,
    store: CachedStore<unknown, unknown> & { readonly name: string }
  ) {
    this.#context = context
    this.#windows = windows
    this.#store = store
    // A context made outside a task (a processor unit-tested on its own) has none: then it lives in memory only.
    this.#metadata =
      (context as unknown as { processorMetadata?: ProcessorMetadata }).processorMetadata ?? new ProcessorMetadata()
    this.#metadataKey = store.name
    this.#lastCloseTime = this.#metadata.get(this.#metadataKey) ?? NONE
    // Nothing to forward on flush: the emitter forwards; the answer says whether there is a cache.
    this.#cached = store.setFlushListener(() => {}, false)
  }

  /** Call before a record's windows are updated. */
  recordStarts(): void {
    this.#storeTimeBefore = storeTimeOf(this.#store)
  }

  /** Call after each record with a key, whether it updated windows or was late. */
  maybeEmit(record: StreamRecord<unknown, unknown>, closeTime: number): void | Promise<void> {
    if (!this.#due(closeTime)) return
    const upper = this.#windows.upper(closeTime)
    if (upper < 0) return
    const lower = this.#windows.lower(this.#lastCloseTime)
    if (!this.#windows.worthFetching(lower, upper, this.#lastCloseTime)) return
    const storeTime = this.#cached ? this.#storeTimeBefore : storeTimeOf(this.#store)
    const closed = this.#windows.fetch(lower, upper, storeTime)
    this.#lastCloseTime = closeTime
    this.#metadata.put(this.#metadataKey, closeTime)
    return forEachInOrder(closed, ({ key, value, timestamp }) =>
      this.#context.forward({ ...record, key, value: { newValue: value, oldValue: null }, timestamp })
    )
  }

  #due(closeTime: number): boolean {
    const now = this.#context.currentSystemTimeMs()
    if (now < this.#nextTimeToEmit) return false
    this.#nextTimeToEmit = now + emitIntervalMs(this.#context as ProcessorContext<unknown, unknown>)
    return this.#lastCloseTime === NONE || this.#lastCloseTime < closeTime
  }
}

/**
 * Windows of a window store between two start times, from `visibleFrom` on (Kafka Streams' time-ordered store shows
 * windows starting at its stream time minus its retention or later), ordered by start then key as that store gives
 * them (Streamlane's orders a segment by key, then start: a stable sort by start keeps the key order).
 */
export function windowsByStart<K, VA>(
  iterator: KeyValueIterator<Windowed<K>, ValueAndTimestamp<VA>>,
  visibleFrom: number
): { key: Windowed<K>; value: VA; timestamp: number }[] {
  const found: KeyValue<Windowed<K>, ValueAndTimestamp<VA>>[] = []
  try {
    for (const entry of iterator) if (entry.key.window.start >= visibleFrom) found.push(entry)
  } finally {
    iterator.close()
  }
  return found
    .sort((a, b) => a.key.window.start - b.key.window.start)
    .map(({ key, value }) => ({ key, value: value.value, timestamp: value.timestamp }))
}

/**
 * Kafka Streams' store for emit-on-window-close still shows windows Streamlane's would have expired (it looks at its
 * own stream time, which lags under a cache, and keeps sessions until a whole segment expires): built with this much
 * more retention, Streamlane's store still holds them, and the emitter shows only what Kafka Streams' would.
 */
export const CLOSED_WINDOWS_EXTRA_RETENTION_MS = 5 * 60_000
