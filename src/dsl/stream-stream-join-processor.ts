import type { Serde } from '../serde/index.ts'
import type { KeyValueStore, TimestampedWindowStore } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from '../topology/index.ts'
import { andThen, forEachInOrder } from '../topology/index.ts'
import type { JoinWindows } from './join-windows.ts'
import type { ValueJoiner } from './joined.ts'
import { OuterJoinStore } from './outer-join-store.ts'

/**
 * Kafka Streams' shared TimeTracker of one stream-stream join in one task: the stream time both sides have seen and
 * (a lower bound of) the time of the oldest waiting unmatched record, which saves scanning the waiting records
 * while none can have closed. Kafka Streams also throttles that scan to once per second of wall-clock time (except
 * in its TopologyTestDriver); Streamlane does not, so a closed window's results come with the first record past it.
 */
export interface JoinTimeTracker {
  streamTime: number
  minTime: number
}

/** One tracker per task, shared by the join's two processors. */
export function joinTimeTrackers(): (taskId: string) => JoinTimeTracker {
  const trackers = new Map<string, JoinTimeTracker>()
  return (taskId) => {
    let tracker = trackers.get(taskId)
    if (tracker === undefined) {
      tracker = { streamTime: -1, minTime: Number.MAX_SAFE_INTEGER }
      trackers.set(taskId, tracker)
    }
    return tracker
  }
}

/**
 * `KStreamJoinWindow`: remembers every record with a key (null values are not stored) in this side's window store
 * for the other side to find, after passing it on to the join processor.
 */
export function joinWindowProcessor<K, V>(storeName: string): ProcessorSupplier<K, V, K, V> {
  return () => {
    let context: ProcessorContext<K, V>
    let store: TimestampedWindowStore<K, V>
    return {
      init(c) {
        context = c
        store = c.getStateStore<TimestampedWindowStore<K, V>>(storeName)
      },
      process(record) {
        return andThen(
          () => context.forward(record),
          () => {
            if (record.key === null || record.key === undefined || record.value === null) return
            store.put(record.key, { value: record.value, timestamp: record.timestamp }, record.timestamp)
          }
        )
      }
    }
  }
}

export interface StreamStreamJoinSide<K, VL, VR, VOut> {
  readonly leftSide: boolean
  /** Whether this side's unmatched records are emitted (left join: the left side; outer join: both). */
  readonly outer: boolean
  readonly otherStoreName: string
  /** The shared store of a left or outer join, else null. */
  readonly outerStoreName: string | null
  readonly windows: JoinWindows
  readonly joiner: ValueJoiner<K, VL | null, VR | null, VOut>
  readonly keySerde: Serde<K>
  readonly leftValueSerde: Serde<VL>
  readonly rightValueSerde: Serde<VR>
  readonly tracker: (taskId: string) => JoinTimeTracker
}

/**
 * One side of a stream-stream join (Kafka Streams' KStreamKStreamJoin, 4.x): a record joins every record of the
 * other side's window store with the same key within the join window, each result stamped with the larger of the
 * two timestamps. An unmatched record of an outer side waits in the shared store until its window closes (stream
 * time past its time + after/before + grace), then is emitted with null for the other side; one that arrives when
 * its window has already closed is emitted at once. Records with a null key or value are dropped, except that an
 * outer side emits a record with a null key and a value at once (KIP-962).
 */
export function streamStreamJoinProcessor<K, VL, VR, VOut, VThis, VOther>(
  side: StreamStreamJoinSide<K, VL, VR, VOut>
): ProcessorSupplier<K, VThis, K, VOut> {
  const { windows, leftSide, outer } = side
  const joinBeforeMs = leftSide ? windows.beforeMs : windows.afterMs
  const joinAfterMs = leftSide ? windows.afterMs : windows.beforeMs
  const thisSerde = (leftSide ? side.leftValueSerde : side.rightValueSerde) as unknown as Serde<VThis>
  const join = (key: K, thisValue: VThis | null, otherValue: VOther | null): VOut =>
    leftSide
      ? side.joiner(thisValue as unknown as VL, otherValue as unknown as VR, key)
      : side.joiner(otherValue as unknown as VL, thisValue as unknown as VR, key)
  return () => {
    let context: ProcessorContext<K, VOut>
    let otherStore: TimestampedWindowStore<K, VOther>
    let outerStore: OuterJoinStore<K> | null = null
    let tracker: JoinTimeTracker
    let topic: string

    /** Emits the waiting records whose window closed, oldest first (Kafka Streams' emitNonJoinedOuterRecords). */
    const emitClosed = (record: StreamRecord<K, VThis>, store: OuterJoinStore<K>): void | Promise<void> => {
      if (tracker.minTime + joinAfterMs + windows.graceMs >= tracker.streamTime) return
      tracker.minTime = Number.MAX_SAFE_INTEGER
      const emits: StreamRecord<K, VOut>[] = []
      const emitted: Buffer[] = []
      let leftOpen = false
      let rightOpen = false
      for (const entry of store.entries()) {
        tracker.minTime = entry.timestamp
        if (leftOpen && rightOpen) break
        const lookBack = entry.leftSide ? windows.afterMs : windows.beforeMs
        if (tracker.minTime + lookBack + windows.graceMs >= tracker.streamTime) {
          if (entry.leftSide) leftOpen = true
          else rightOpen = true
          continue
        }
        const serde = entry.leftSide ? side.leftValueSerde : side.rightValueSerde
        for (const bytes of entry.values) {
          const value = serde.deserialize(topic, bytes)
          const result = entry.leftSide
            ? side.joiner(value as VL, null, entry.key)
            : side.joiner(null, value as VR, entry.key)
          emits.push({ ...record, key: entry.key, value: result, timestamp: entry.timestamp })
        }
        emitted.push(entry.storeKey)
      }
      for (const storeKey of emitted) store.delete(storeKey)
      return forEachInOrder(emits, (r) => context.forward(r))
    }

    return {
      init(c) {
        context = c
        otherStore = c.getStateStore<TimestampedWindowStore<K, VOther>>(side.otherStoreName)
        if (side.outerStoreName !== null) {
          const store = c.getStateStore<KeyValueStore<Buffer, Buffer>>(side.outerStoreName)
          outerStore = new OuterJoinStore(store, side.keySerde, side.outerStoreName)
        }
        tracker = side.tracker(c.taskId.toString())
        topic = side.outerStoreName ?? side.otherStoreName
      },
      process(record) {
        const time = record.timestamp
        tracker.streamTime = Math.max(tracker.streamTime, time)
        const nullKey = record.key === null || record.key === undefined
        if (outer && nullKey && record.value !== null) {
          return context.forward({ ...record, value: join(record.key, record.value, null) })
        }
        if (nullKey || record.value === null) {
          context.recordDropped(
            nullKey ? 'null-key' : 'null-value',
            'a stream-stream join skips records with a null key or value'
          )
          return
        }
        const store = outerStore
        return andThen(
          () => (store !== null && time === tracker.streamTime ? emitClosed(record, store) : undefined),
          () => {
            const timeFrom = Math.max(0, time - joinBeforeMs)
            const timeTo = Math.max(0, time + joinAfterMs)
            const results: StreamRecord<K, VOut>[] = []
            const iterator = otherStore.fetch(record.key, timeFrom, timeTo)
            try {
              for (const { key: otherTime, value: other } of iterator) {
                store?.matched(record.key, otherTime, !leftSide)
                results.push({
                  ...record,
                  value: join(record.key, record.value, other.value),
                  timestamp: Math.max(time, otherTime)
                })
              }
            } finally {
              iterator.close()
            }
            if (results.length === 0 && outer) {
              if (store === null || timeTo < tracker.streamTime) {
                results.push({ ...record, value: join(record.key, record.value, null) })
              } else {
                tracker.minTime = Math.min(tracker.minTime, time)
                store.add(record.key, time, leftSide, thisSerde.serialize(topic, record.value) ?? Buffer.alloc(0))
              }
            }
            return forEachInOrder(results, (r) => context.forward(r))
          }
        )
      }
    }
  }
}
