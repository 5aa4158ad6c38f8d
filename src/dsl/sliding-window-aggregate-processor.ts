import type { KeyValue, TimestampedWindowStore, ValueAndTimestamp, Windowed } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from '../topology/index.ts'
import type { Aggregator, Initializer } from './aggregators.ts'
import type { Change } from './change.ts'
import { EmitStrategy, WindowCloseEmitter, windowsByStart } from './emit-strategy.ts'
import { type TableForward, tableForwarder, unwrapTimestamped } from './table-forwarder.ts'
import { checkAggregatable, lateMessage } from './window-aggregate-processors.ts'
import type { SlidingWindows } from './windows.ts'

/**
 * Sliding-window aggregation, Kafka Streams' KStreamSlidingWindowAggregate algorithm. Windows are [start, start + d]
 * (d = time difference), both ends inclusive, and exist only where records are: each record has a left window
 * [t - d, t] ending at it, and a right window [t + 1, t + 1 + d] when later records fall within d after it. With only
 * an aggregator (no subtractor), a new window's aggregate is copied from an existing window that holds exactly the
 * right records, which is why the order of the steps below matters.
 *
 * Each window's value carries the largest record timestamp in it, which tells which records a window holds.
 */

interface Step<K, VA> {
  readonly context: ProcessorContext<Windowed<K>, Change<VA>>
  readonly store: TimestampedWindowStore<K, VA>
  readonly forward: TableForward<Windowed<K>, VA>
  readonly storeName: string
  readonly windows: SlidingWindows
  readonly initializer: Initializer<VA | null>
  readonly aggregator: Aggregator<K, unknown, VA | null>
}

interface Arrival<K> {
  readonly record: StreamRecord<K, unknown>
  readonly closeTime: number
  readonly streamTime: number
  late: string | null
}

type Window<VA> = KeyValue<number, ValueAndTimestamp<VA>>

export function slidingWindowAggregateProcessor<K, V, VA>(
  storeName: string,
  windows: SlidingWindows,
  initializer: Initializer<VA | null>,
  aggregator: Aggregator<K, V, VA | null>,
  emit: EmitStrategy = EmitStrategy.onWindowUpdate(),
  retentionMs: number = 2 * windows.timeDifferenceMs + windows.graceMs
): ProcessorSupplier<K, V, Windowed<K>, Change<VA>> {
  return () => {
    let step: Step<K, VA>
    let closer: WindowCloseEmitter<K, VA> | null = null
    let observedStreamTime = -1
    return {
      init(c) {
        const store = c.getStateStore<TimestampedWindowStore<K, VA>>(storeName)
        let forward: TableForward<Windowed<K>, VA>
        if (emit.type === 'onWindowClose') {
          forward = () => undefined
          closer = new WindowCloseEmitter(c, slidingWindowsClosing(windows, store, retentionMs), store)
        } else {
          forward = tableForwarder(store, c, unwrapTimestamped)
        }
        step = { context: c, store, forward, storeName, windows, initializer, aggregator: aggregator as never }
      },
      process(record) {
        if (!checkAggregatable(step.context, storeName, record)) return
        closer?.recordStarts()
        const t = record.timestamp
        const d = windows.timeDifferenceMs
        observedStreamTime = Math.max(observedStreamTime, t)
        const arrival: Arrival<K> = {
          record,
          closeTime: observedStreamTime - windows.graceMs,
          streamTime: observedStreamTime,
          late: null
        }
        if (t + 1 + d <= arrival.closeTime) {
          step.context.recordDropped(
            'late',
            lateMessage(storeName, t, `[${t - d}, ${t}]`, observedStreamTime, windows.graceMs)
          )
          return
        }
        if (t < d) processEarly(step, arrival)
        else processLatestFirst(step, arrival)
        if (arrival.late !== null) step.context.recordDropped('late', arrival.late)
        return closer?.maybeEmit(record, arrival.closeTime)
      }
    }
  }
}

/** Kafka Streams' KStreamSlidingWindowAggregate bounds: windows [start, start + d] with their (inclusive) end closed. */
function slidingWindowsClosing<K, VA>(
  windows: SlidingWindows,
  store: TimestampedWindowStore<K, VA>,
  retentionMs: number
) {
  const d = windows.timeDifferenceMs
  return {
    lower: (last: number) => (last === -1 ? 0 : Math.max(0, last - d)),
    upper: (closeTime: number) => closeTime - d - 1,
    worthFetching: () => true,
    fetch: (lower: number, upper: number, storeTime: number) =>
      windowsByStart(store.fetchAll(lower, upper), storeTime - retentionMs)
  }
}

function fetchWindows<K, VA>(step: Step<K, VA>, key: K, from: number, to: number): Window<VA>[] {
  return [...step.store.fetch(key, from, to)]
}

function unexpectedWindow(start: number, t: number): Error {
  return new Error(`sliding window aggregation found a window starting at ${start} while processing a record at ${t}`)
}
/**
 * Visits the key's windows from the latest start back (Kafka Streams' processReverse, which it uses whenever the store
 * can iterate backwards, as its built-in stores can): the order of the updates forwarded for one record follows it.
 */
function processLatestFirst<K, VA>(step: Step<K, VA>, arrival: Arrival<K>): void {
  const { key, timestamp: t } = arrival.record
  const d = step.windows.timeDifferenceMs
  const starts = new Set<number>()
  let leftAggregate: ValueAndTimestamp<VA> | null = null
  let rightAggregate: ValueAndTimestamp<VA> | null = null
  let leftCreated = false
  let rightCreated = false
  let previousRecordTime: number | null = null
  for (const window of fetchWindows(step, key, Math.max(0, t - 2 * d), t + 1).reverse()) {
    const start = window.key
    const end = start + d
    const maxRecordTime = window.value.timestamp
    starts.add(start)
    if (start === t + 1) {
      rightCreated = true
    } else if (end > t) {
      rightAggregate ??= window.value
      update(step, arrival, start, window.value)
    } else if (end === t) {
      leftCreated = true
      update(step, arrival, start, window.value)
      // The left window holds this timestamp already: every window this record needs exists.
      if (maxRecordTime >= t) return
      previousRecordTime = maxRecordTime
    } else {
      leftAggregate = window.value
      previousRecordTime = maxRecordTime
      break
    }
  }
  if (previousRecordTime !== null) {
    const previousRightStart = previousRecordTime + 1
    if (!starts.has(previousRightStart) && previousRightStart + d >= t) update(step, arrival, previousRightStart, null)
  }
  if (!leftCreated) {
    const leftNotEmpty = previousRecordTime !== null && t - d <= previousRecordTime && leftAggregate !== null
    update(step, arrival, t - d, null, leftNotEmpty ? leftAggregate!.value : undefined)
  }
  if (!rightCreated && rightAggregate !== null && rightAggregate.timestamp > t)
    createRightWindow(step, arrival, rightAggregate)
}

/** Records earlier than the time difference would open windows starting before 0: they share the window [0, d]. */
function processEarly<K, VA>(step: Step<K, VA>, arrival: Arrival<K>): void {
  const { key, timestamp: t } = arrival.record
  const starts = new Set<number>()
  let combined: Window<VA> | null = null
  let rightAggregate: ValueAndTimestamp<VA> | null = null
  let rightCreated = false
  let previousRecordTime: number | null = null
  for (const window of fetchWindows(step, key, 0, t + 1)) {
    const start = window.key
    starts.add(start)
    if (start === 0) {
      combined = window
      if (window.value.timestamp < t) previousRecordTime = window.value.timestamp
    } else if (start <= t) {
      rightAggregate = window.value
      update(step, arrival, start, window.value)
    } else if (start === t + 1) {
      rightCreated = true
    } else {
      throw unexpectedWindow(start, t)
    }
  }
  if (rightAggregate === null && combined !== null && combined.value.timestamp > t) rightAggregate = combined.value
  if (!rightCreated && rightAggregate !== null && rightAggregate.timestamp > t)
    createRightWindow(step, arrival, rightAggregate)
  if (previousRecordTime !== null && !starts.has(previousRecordTime + 1))
    update(step, arrival, previousRecordTime + 1, null)
  update(step, arrival, 0, combined === null ? null : combined.value)
}

/**
 * Adds the record to the window starting at `start`: to `existing` when the window exists, else to a new window
 * seeded with `seed` (a copy of another window's aggregate) or the initializer. Closed windows are skipped.
 */
function update<K, VA>(
  step: Step<K, VA>,
  arrival: Arrival<K>,
  start: number,
  existing: ValueAndTimestamp<VA> | null,
  seed?: VA | null
): void {
  const { record } = arrival
  const d = step.windows.timeDifferenceMs
  const end = start + d
  if (end < arrival.closeTime) {
    arrival.late ??= lateMessage(
      step.storeName,
      record.timestamp,
      `[${start}, ${end}]`,
      arrival.streamTime,
      step.windows.graceMs
    )
    return
  }
  const base = existing !== null ? existing.value : seed !== undefined ? seed : step.initializer()
  const aggregate = step.aggregator(record.key, record.value, base)
  const timestamp = existing === null ? record.timestamp : Math.max(record.timestamp, existing.timestamp)
  step.store.put(record.key, aggregate === null ? null : { value: aggregate, timestamp }, start)
  if (aggregate === null && existing === null) return
  void step.forward({
    ...record,
    key: { key: record.key, window: { start, end } },
    value: { newValue: aggregate, oldValue: existing === null ? null : existing.value },
    timestamp
  })
}

/** The record's right window holds the records after it, exactly those of the window found to contain them. */
function createRightWindow<K, VA>(step: Step<K, VA>, arrival: Arrival<K>, aggregate: ValueAndTimestamp<VA>): void {
  const { key, timestamp: t } = arrival.record
  const start = t + 1
  step.store.put(key, aggregate, start)
  void step.forward({
    ...arrival.record,
    key: { key, window: { start, end: start + step.windows.timeDifferenceMs } },
    value: { newValue: aggregate.value, oldValue: null },
    timestamp: aggregate.timestamp
  })
}
