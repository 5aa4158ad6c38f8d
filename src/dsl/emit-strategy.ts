import type { KeyValue, KeyValueIterator, ValueAndTimestamp, Windowed } from '../state/index.ts'
import type { ProcessorContext, StreamRecord } from '../topology/index.ts'
import { forEachInOrder } from '../topology/index.ts'
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
 * `emit.interval.ms.kstreams.windowed.aggregation` default. Closing windows are emitted by the first record after the
 * interval, so results come in batches at most once a second.
 */
export const WINDOW_CLOSE_EMIT_INTERVAL_MS = 1000

/** Kafka Streams' ConsumerRecord.NO_TIMESTAMP: nothing emitted yet. */
const NONE = -1

/** What one kind of window (time, sliding, session) says about the windows a close time closes. */
export interface ClosedWindows<K, VA> {
  /** The inclusive bounds to fetch, from the last close time emitted (NONE before the first) and the new one. */
  lower(lastCloseTime: number): number
  upper(closeTime: number): number
  /** False when the new bounds cover no window that was not emitted (time windows skip the fetch then). */
  worthFetching(lower: number, upper: number, lastCloseTime: number): boolean
  /** The closed windows in Kafka Streams' time-ordered store order, with the aggregate and the timestamp to emit. */
  fetch(lower: number, upper: number): readonly { key: Windowed<K>; value: VA | null; timestamp: number }[]
}

/**
 * Kafka Streams' emit-on-window-close for one aggregation processor: after each record (its windows updated or the
 * record found late), if the wall-clock throttle allows and the close time moved on, every window closed since the
 * last emission is forwarded once, as `{ newValue: aggregate, oldValue: null }` with the headers of the record that
 * triggered it. The last close time emitted lives in memory: after a restart or a task move, windows closed before
 * may be emitted again (Kafka Streams keeps it in the committed offsets' metadata); see docs/topology.md.
 */
export class WindowCloseEmitter<K, VA> {
  readonly #context: ProcessorContext<Windowed<K>, Change<VA>>
  readonly #windows: ClosedWindows<K, VA>
  #lastCloseTime = NONE
  #nextTimeToEmit = 0

  constructor(context: ProcessorContext<Windowed<K>, Change<VA>>, windows: ClosedWindows<K, VA>) {
    this.#context = context
    this.#windows = windows
  }

  /** Call after each record with a key, whether it updated windows or was late. */
  maybeEmit(record: StreamRecord<unknown, unknown>, closeTime: number): void | Promise<void> {
    if (!this.#due(closeTime)) return
    const upper = this.#windows.upper(closeTime)
    if (upper < 0) return
    const lower = this.#windows.lower(this.#lastCloseTime)
    if (!this.#windows.worthFetching(lower, upper, this.#lastCloseTime)) return
    const closed = this.#windows.fetch(lower, upper)
    this.#lastCloseTime = closeTime
    return forEachInOrder(closed, ({ key, value, timestamp }) =>
      this.#context.forward({ ...record, key, value: { newValue: value, oldValue: null }, timestamp })
    )
  }

  #due(closeTime: number): boolean {
    const now = this.#context.currentSystemTimeMs()
    if (now < this.#nextTimeToEmit) return false
    this.#nextTimeToEmit = now + WINDOW_CLOSE_EMIT_INTERVAL_MS
    return this.#lastCloseTime === NONE || this.#lastCloseTime < closeTime
  }
}

/**
 * Windows of a window store between two start times, ordered by start then key as Kafka Streams' time-ordered store
 * gives them (the store orders a segment by key, then start: a stable sort by start keeps the key order).
 */
export function windowsByStart<K, VA>(
  iterator: KeyValueIterator<Windowed<K>, ValueAndTimestamp<VA>>
): { key: Windowed<K>; value: VA; timestamp: number }[] {
  const found: KeyValue<Windowed<K>, ValueAndTimestamp<VA>>[] = []
  try {
    for (const entry of iterator) found.push(entry)
  } finally {
    iterator.close()
  }
  return found
    .sort((a, b) => a.key.window.start - b.key.window.start)
    .map(({ key, value }) => ({ key, value: value.value, timestamp: value.timestamp }))
}
