import type { TimestampedKeyValueStore } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier } from '../topology/index.ts'
import type { Aggregator, Initializer } from './aggregators.ts'
import type { Change } from './change.ts'
import { putAndForward, type TableForward, tableForwarder, unwrapTimestamped } from './table-forwarder.ts'

/**
 * The processors behind `KGroupedStream` and `KGroupedTable` aggregations. Each keeps one aggregate per key in a
 * timestamped key-value store (the timestamp is the largest of the records aggregated) and forwards `Change`s.
 */

interface StoreAccess<K, VA> {
  context: ProcessorContext<K, Change<VA>>
  store: TimestampedKeyValueStore<K, VA>
  forward: TableForward<K, VA>
}

function open<K, VA>(c: ProcessorContext<K, Change<VA>>, storeName: string): StoreAccess<K, VA> {
  const store = c.getStateStore<TimestampedKeyValueStore<K, VA>>(storeName)
  return { context: c, store, forward: tableForwarder(store, c, unwrapTimestamped) }
}

/**
 * `KGroupedStream.aggregate` (and `count`, and `reduce` with a null initial aggregate). Records without a key or a
 * value are dropped and counted, as Kafka Streams ignores them.
 */
export function streamAggregateProcessor<K, V, VA>(
  storeName: string,
  initializer: Initializer<VA | null>,
  aggregator: Aggregator<K, V, VA | null>
): ProcessorSupplier<K, V, K, Change<VA>> {
  return () => {
    let s: StoreAccess<K, VA>
    return {
      init(c) {
        s = open(c, storeName)
      },
      process(record) {
        if (record.key === null || record.key === undefined) {
          s.context.recordDropped('null-key', `aggregation ${storeName} needs a key to group by`)
          return
        }
        if (record.value === null || record.value === undefined) {
          s.context.recordDropped('null-value', `aggregation ${storeName} ignores records without a value`)
          return
        }
        const old = s.store.get(record.key)
        const aggregate = aggregator(record.key, record.value, old === null ? initializer() : old.value)
        const timestamp = old === null ? record.timestamp : Math.max(record.timestamp, old.timestamp)
        return putAndForward(s.store, s.forward, record, aggregate, timestamp)
      }
    }
  }
}

/**
 * `KGroupedTable.aggregate` / `count` / `reduce`: each change first subtracts its old value from the group's
 * aggregate (when the group has one), then adds its new value (starting from the initializer, or for reduce from the
 * value itself). A null aggregate deletes the group.
 */
export function tableAggregateProcessor<K, V, VA>(
  storeName: string,
  initializer: Initializer<VA | null>,
  adder: Aggregator<K, V, VA | null>,
  subtractor: Aggregator<K, V, VA>
): ProcessorSupplier<K, Change<V>, K, Change<VA>> {
  return () => {
    let s: StoreAccess<K, VA>
    return {
      init(c) {
        s = open(c, storeName)
      },
      process(record) {
        if (record.key === null || record.key === undefined) {
          s.context.recordDropped('null-key', `aggregation ${storeName} needs a key to group by`)
          return
        }
        const { newValue, oldValue } = record.value
        const old = s.store.get(record.key)
        let aggregate: VA | null = old === null ? null : old.value
        let timestamp = record.timestamp
        if (oldValue !== null && aggregate !== null) {
          aggregate = subtractor(record.key, oldValue, aggregate)
          timestamp = Math.max(record.timestamp, old!.timestamp)
        }
        if (newValue !== null) {
          aggregate = adder(record.key, newValue, aggregate ?? initializer())
          if (old !== null) timestamp = Math.max(record.timestamp, old.timestamp)
        }
        return putAndForward(s.store, s.forward, record, aggregate, timestamp)
      }
    }
  }
}
