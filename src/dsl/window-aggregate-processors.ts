import type { SessionStore, TimestampedWindowStore, Windowed } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from '../topology/index.ts'
import { andThen, forEachInOrder } from '../topology/index.ts'
import type { Aggregator, Initializer, Merger } from './aggregators.ts'
import type { Change } from './change.ts'
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
  aggregator: Aggregator<K, V, VA | null>
): ProcessorSupplier<K, V, Windowed<K>, Change<VA>> {
  return () => {
    let context: ProcessorContext<Windowed<K>, Change<VA>>
    let store: TimestampedWindowStore<K, VA>
    let forward: WindowedForward<K, VA>
    let observedStreamTime = -1
    return {
      init(c) {
        context = c
        store = c.getStateStore<TimestampedWindowStore<K, VA>>(storeName)
        forward = tableForwarder(store, c, unwrapTimestamped)
      },
      process(record) {
        if (!checkAggregatable(context, storeName, record, 'aggregate')) return
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
          }
        )
      }
    }
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
  merger: Merger<K, VA | null>
): ProcessorSupplier<K, V, Windowed<K>, Change<VA>> {
  return () => {
    let context: ProcessorContext<Windowed<K>, Change<VA>>
    let store: SessionStore<K, VA>
    let forward: WindowedForward<K, VA>
    let observedStreamTime = -1
    return {
      init(c) {
        context = c
        store = c.getStateStore<SessionStore<K, VA>>(storeName)
        forward = tableForwarder(store, c, (aggregate: VA) => aggregate, sessionEnd)
      },
      process(record) {
        if (!checkAggregatable(context, storeName, record, 'aggregate')) return
        const { key, value, timestamp } = record
        observedStreamTime = Math.max(observedStreamTime, timestamp)
        const gap = windows.inactivityGapMs
        const closeTime = observedStreamTime - windows.graceMs - gap
        const merged = [...store.findSessions(key, timestamp - gap, timestamp + gap)]
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
          return
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
            return forward({ ...record, key: sessionKey, value: { newValue: result, oldValue: null }, timestamp: end })
          }
        )
      }
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
