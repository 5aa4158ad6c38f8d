import type { SessionStore, TimestampedWindowStore, Windowed } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from '../topology/index.ts'
import { andThen, forEachInOrder } from '../topology/index.ts'
import type { Aggregator, Initializer, Merger } from './aggregators.ts'
import type { Change } from './change.ts'
import { EmitStrategy, WindowCloseEmitter, windowsByStart } from './emit-strategy.ts'
import { sessionSegmentIntervalMs } from './session-windowed-kstream.ts'
import { type TableForward, tableForwarder, unwrapTimestamped } from './table-forwarder.ts'
import type { SessionWindows, TimeWindows } from './windows.ts'

/**
 * Windowed aggregations of a grouped stream (Kafka Streams' KStreamWindowAggregate and KStreamSessionWindowAggregate).
 *
 * Lateness is judged against the processor's observed stream time, the largest timestamp it has aggregated: a
 * window closes when that passes its end plus the grace period. A record for a closed window is dropped, counted in
 * `counters.dropped.late` (once per record, even when it was too late for several hopping windows) and logged.
 */

type WindowedForward<K, VA> = TableForward<Windowed<K>, VA>

/**
 * Drops records without a key, which no aggregation can group; sliding windows (and non-windowed stream aggregations)
 * also drop records without a value, as Kafka Streams does, while time and session windows pass a null value to the
 * aggregator (a windowed count counts it). True when the record may be aggregated.
 */
export function checkAggregatable(
  context: ProcessorContext<unknown, unknown>,
  storeName: string,
  record: StreamRecord<unknown, unknown>,
  nullValues: 'drop' | 'aggregate' = 'drop'
): boolean {
  if (record.key === null || record.key === undefined) {
    context.recordDropped('null-key', `aggregation ${storeName} needs a key to group by`)
    return false
  }
  if (nullValues === 'drop' && (record.value === null || record.value === undefined)) {
    context.recordDropped('null-value', `aggregation ${storeName} ignores records without a value`)
    return false
  }
  return true
}

export function lateMessage(storeName: string, timestamp: number, window: string, streamTime: number, graceMs: number) {
  return (
    `the record (timestamp ${timestamp}) is too late for window ${window} of ${storeName}: stream time is ` +
    `${streamTime} and the grace period ${graceMs} ms, so that window has closed`
  )
}

/** Tumbling and hopping windows: each record updates every window it falls in that is still open. */
export function timeWindowAggregateProcessor<K, V, VA>(
  storeName: string,
  windows: TimeWindows,
  initializer: Initializer<VA | null>,
  aggregator: Aggregator<K, V, VA | null>,
  emit: EmitStrategy = EmitStrategy.onWindowUpdate(),
  retentionMs: number = windows.sizeMs + windows.graceMs
): ProcessorSupplier<K, V, Windowed<K>, Change<VA>> {
  return () => {
    let context: ProcessorContext<Windowed<K>, Change<VA>>
    let store: TimestampedWindowStore<K, VA>
    let forward: WindowedForward<K, VA>
    let closer: WindowCloseEmitter<K, VA> | null = null
    let observedStreamTime = -1
    return {
      init(c) {
        context = c
        store = c.getStateStore<TimestampedWindowStore<K, VA>>(storeName)
        if (emit.type === 'onWindowClose') {
          forward = () => undefined
          closer = new WindowCloseEmitter(c, timeWindowsClosing(windows, store, retentionMs), store)
        } else {
          forward = tableForwarder(store, c, unwrapTimestamped)
        }
      },
      process(record) {
        if (!checkAggregatable(context, storeName, record, 'aggregate')) return
        closer?.recordStarts()
        const { key, value, timestamp } = record
        observedStreamTime = Math.max(observedStreamTime, timestamp)
        const closeTime = observedStreamTime - windows.graceMs
        let late: string | null = null
        return andThen(
          () =>
            forEachInOrder(windows.windowStartsFor(timestamp), (start) => {
              const end = start + windows.sizeMs
              if (end <= closeTime) {
                late ??= lateMessage(storeName, timestamp, `[${start}, ${end})`, observedStreamTime, windows.graceMs)
                return
              }
              const old = store.fetch(key, start)
              const aggregate = aggregator(key, value, old === null ? initializer() : old.value)
              const newTimestamp = old === null ? timestamp : Math.max(timestamp, old.timestamp)
              store.put(key, aggregate === null ? null : { value: aggregate, timestamp: newTimestamp }, start)
              // Even a null aggregate of a window that had none is forwarded (uncached), as Kafka Streams does.
              return forward({
                ...record,
                key: { key, window: { start, end } },
                value: { newValue: aggregate, oldValue: old === null ? null : old.value },
                timestamp: newTimestamp
              })
            }),
          () => {
            if (late !== null) context.recordDropped('late', late)
            return closer?.maybeEmit(record, closeTime)
          }
        )
      }
    }
  }
}

/** Kafka Streams' KStreamWindowAggregate bounds: windows whose end is at most the close time, by start. */
function timeWindowsClosing<K, VA>(windows: TimeWindows, store: TimestampedWindowStore<K, VA>, retentionMs: number) {
  const sameWindows = (a: number, b: number) => windows.windowStartsFor(a).join() === windows.windowStartsFor(b).join()
  return {
    // Window ends are exclusive: the first window not emitted yet starts one past the last emitted close - size.
    lower: (last: number) => (last === -1 ? 0 : Math.max(0, last - windows.sizeMs) + 1),
    upper: (closeTime: number) => closeTime - windows.sizeMs,
    worthFetching: (lower: number, upper: number, last: number) => last === -1 || !sameWindows(upper, lower - 1),
    fetch: (lower: number, upper: number, storeTime: number) =>
      windowsByStart(store.fetchAll(lower, upper), storeTime - retentionMs)
  }
}

/**
 * Session windows (Kafka Streams' KStreamSessionWindowAggregate): a record merges every session of its key that ends
 * within the gap before it or starts within the gap after it. It is late only when the merged session ends before
 * stream time - grace - gap: a record up to `gap` before a still open session extends it. When the merged session is
 * not the record's own [t, t] (it merged or extended sessions, or fell inside one), every session it merged is
 * deleted and retracted downstream (new value null), then the merged one written as new. Forwarded timestamps,
 * cached or not, are session ends.
 */
export function sessionWindowAggregateProcessor<K, V, VA>(
  storeName: string,
  windows: SessionWindows,
  initializer: Initializer<VA | null>,
  aggregator: Aggregator<K, V, VA | null>,
  merger: Merger<K, VA | null>,
  emit: EmitStrategy = EmitStrategy.onWindowUpdate(),
  retentionMs?: number
): ProcessorSupplier<K, V, Windowed<K>, Change<VA>> {
  // Emitting on close, the store keeps sessions longer than it is read here (see closedSessionsRetentionMs): reads
  // see what the store would with its usual retention, and the closed sessions Kafka Streams' store still holds.
  const readRetentionMs = windows.inactivityGapMs + windows.graceMs + 1
  const kafkaStreamsRetentionMs = retentionMs ?? windows.inactivityGapMs + windows.graceMs
  return () => {
    let context: ProcessorContext<Windowed<K>, Change<VA>>
    let store: SessionStore<K, VA>
    let forward: WindowedForward<K, VA>
    let closer: WindowCloseEmitter<K, VA> | null = null
    let observedStreamTime = -1
    /** The largest session end put (the store's stream time). */
    let storeTime = -1
    return {
      init(c) {
        context = c
        store = c.getStateStore<SessionStore<K, VA>>(storeName)
        if (emit.type === 'onWindowClose') {
          forward = () => undefined
          closer = new WindowCloseEmitter(c, sessionsClosing(store, kafkaStreamsRetentionMs), store)
        } else {
          forward = tableForwarder(store, c, (aggregate: VA) => aggregate, sessionEnd)
        }
      },
      process(record) {
        if (!checkAggregatable(context, storeName, record, 'aggregate')) return
        closer?.recordStarts()
        const { key, value, timestamp } = record
        observedStreamTime = Math.max(observedStreamTime, timestamp)
        const gap = windows.inactivityGapMs
        const closeTime = observedStreamTime - windows.graceMs - gap
        let merged = [...store.findSessions(key, timestamp - gap, timestamp + gap)]
        if (closer !== null) merged = merged.filter((s) => s.key.window.end > storeTime - readRetentionMs)
        let start = timestamp
        let end = timestamp
        let aggregate: VA | null = initializer()
        for (const session of merged) {
          aggregate = merger(key, aggregate, session.value)
          start = Math.min(start, session.key.window.start)
          end = Math.max(end, session.key.window.end)
        }
        if (end < closeTime) {
          context.recordDropped(
            'late',
            sessionLateMessage(storeName, timestamp, start, end, observedStreamTime, windows)
          )
          return closer?.maybeEmit(record, closeTime)
        }
        const retired = start === timestamp && end === timestamp ? [] : merged
        return andThen(
          () =>
            forEachInOrder(retired, (session) => {
              store.remove(session.key)
              return forward({
                ...record,
                key: session.key,
                value: { newValue: null, oldValue: session.value },
                timestamp: session.key.window.end
              })
            }),
          () => {
            const result = aggregator(key, value, aggregate)
            const sessionKey: Windowed<K> = { key, window: { start, end } }
            store.put(sessionKey, result)
            storeTime = Math.max(storeTime, end)
            return andThen(
              () =>
                forward({ ...record, key: sessionKey, value: { newValue: result, oldValue: null }, timestamp: end }),
              () => closer?.maybeEmit(record, closeTime)
            )
          }
        )
      }
    }
  }
}

/**
 * Kafka Streams' KStreamSessionWindowAggregate bounds: sessions whose (inclusive) end is before the close time, in
 * its time-ordered session store's order (end, then start, then key), timestamped with their end.
 */
function sessionsClosing<K, VA>(store: SessionStore<K, VA>, retentionMs: number) {
  const intervalMs = sessionSegmentIntervalMs(retentionMs)
  return {
    lower: (last: number) => Math.max(0, last),
    upper: (closeTime: number) => closeTime - 1,
    worthFetching: (lower: number, upper: number) => upper >= lower,
    fetch(lower: number, upper: number, storeTime: number) {
      // Kafka Streams' store drops whole segments once their end is out of retention; the others it still reads.
      const liveSegment = Math.floor((storeTime - retentionMs) / intervalMs)
      const live = (end: number) => Math.floor(end / intervalMs) >= liveSegment
      const found: { key: Windowed<K>; value: VA; timestamp: number }[] = []
      const iterator = store.all()
      try {
        for (const { key, value } of iterator) {
          const { end } = key.window
          if (end >= lower && end <= upper && live(end)) found.push({ key, value, timestamp: key.window.end })
        }
      } finally {
        iterator.close()
      }
      return found.sort((a, b) => a.key.window.end - b.key.window.end || a.key.window.start - b.key.window.start)
    }
  }
}

const sessionEnd = (key: Windowed<unknown>): number => key.window.end

function sessionLateMessage(
  storeName: string,
  timestamp: number,
  start: number,
  end: number,
  streamTime: number,
  windows: SessionWindows
): string {
  return (
    `the record (timestamp ${timestamp}) is too late for session [${start}, ${end}] of ${storeName}: stream time is ` +
    `${streamTime}, the grace period ${windows.graceMs} ms and the inactivity gap ${windows.inactivityGapMs} ms, so ` +
    'that session has closed'
  )
}
