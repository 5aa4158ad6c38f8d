import type { TimestampedKeyValueStore } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from '../topology/index.ts'
import { andThen } from '../topology/index.ts'
import type { Change } from './change.ts'
import { putAndForward, type TableForward, tableForwarder, unwrapTimestamped } from './table-forwarder.ts'

/**
 * The processors behind KTable operations. Each receives and forwards `Change` values (new and old value of a key),
 * as Kafka Streams' KTable processors do with old values enabled, so a downstream filter can retract a key and a
 * re-grouping can subtract from the old group.
 */

/**
 * `builder.table()`: every record updates the store (null deletes); null keys are dropped and counted. A table source
 * that is not materialized in Kafka Streams' sense (`materialized()` false: unnamed, and nothing downstream needs old
 * values) forwards every record as it comes with no old value, bypassing the store's cache, as Kafka Streams' does.
 */
export function tableSourceProcessor<K, V>(
  storeName: string,
  materialized: () => boolean = () => true
): ProcessorSupplier<K, V, K, Change<V>> {
  return () => {
    let context: ProcessorContext<K, Change<V>>
    let store: TimestampedKeyValueStore<K, V>
    let forward: TableForward<K, V>
    let passThrough = false
    return {
      init(c) {
        context = c
        store = c.getStateStore<TimestampedKeyValueStore<K, V>>(storeName)
        passThrough = !materialized()
        forward = passThrough ? (r) => c.forward(r) : tableForwarder(store, c, unwrapTimestamped)
      },
      process(record) {
        if (record.key === null || record.key === undefined) {
          context.recordDropped('null-key', `table ${storeName} cannot store a record without a key`)
          return
        }
        if (!passThrough) return putAndForward(store, forward, record, record.value)
        store.put(record.key, record.value === null ? null : { value: record.value, timestamp: record.timestamp })
        return forward({ ...record, value: { newValue: record.value, oldValue: null } })
      }
    }
  }
}

/**
 * Applies `compute` to the new value, and to the old one when this node sends old values, and forwards the change;
 * or, when the result is materialized in `storeName`, stores the new value and forwards through the store (old value
 * from the store). A filter (`skipEmpty`) that sends old values forwards nothing for a change null on both sides,
 * since nothing downstream saw the key; otherwise such a change is forwarded (a tombstone downstream), as Kafka
 * Streams' KTableFilter and KTableMapValues do.
 */
function tableTransform<K, V, VR>(
  storeName: string | null,
  compute: (value: V, key: K) => VR | null,
  sendsOldValues: () => boolean,
  skipEmpty: boolean
): ProcessorSupplier<K, Change<V>, K, Change<VR>> {
  return () => {
    let context: ProcessorContext<K, Change<VR>>
    let store: TimestampedKeyValueStore<K, VR> | null = null
    let forward: TableForward<K, VR>
    return {
      init(c) {
        context = c
        if (storeName !== null) {
          const s = c.getStateStore<TimestampedKeyValueStore<K, VR>>(storeName)
          store = s
          forward = tableForwarder(s, c, unwrapTimestamped)
        }
      },
      process(record: StreamRecord<K, Change<V>>) {
        const { newValue, oldValue } = record.value
        const computedNew = newValue === null ? null : compute(newValue, record.key)
        if (store !== null) {
          if (record.key === null || record.key === undefined) return
          if (skipEmpty && computedNew === null && store.get(record.key) === null) return
          return putAndForward(store, forward, record, computedNew)
        }
        const sendOld = sendsOldValues()
        const computedOld = oldValue === null || !sendOld ? null : compute(oldValue, record.key)
        if (skipEmpty && sendOld && computedNew === null && computedOld === null) return
        return context.forward({ ...record, value: { newValue: computedNew, oldValue: computedOld } })
      }
    }
  }
}

/** `KTable.filter` / `filterNot`: a key that stops matching is retracted with a tombstone (new value null). */
export function tableFilterProcessor<K, V>(
  predicate: (key: K, value: V) => boolean,
  keep: boolean,
  storeName: string | null,
  sendsOldValues: () => boolean = () => true
): ProcessorSupplier<K, Change<V>, K, Change<V>> {
  const compute = (value: V, key: K) => (Boolean(predicate(key, value)) === keep ? value : null)
  return tableTransform<K, V, V>(storeName, compute, sendsOldValues, true)
}

export function tableMapValuesProcessor<K, V, VR>(
  mapper: (value: V, key: K) => VR,
  storeName: string | null,
  sendsOldValues: () => boolean = () => true
): ProcessorSupplier<K, Change<V>, K, Change<VR>> {
  return tableTransform<K, V, VR>(storeName, mapper, sendsOldValues, false)
}

/** `KTable.toStream()`: every update as a record, deletes as tombstones. */
export function toStreamProcessor<K, V>(): ProcessorSupplier<K, Change<V>, K, V | null> {
  return () => {
    let context: ProcessorContext<K, V | null>
    return {
      init(c) {
        context = c
      },
      process: (record) => context.forward({ ...record, value: record.value.newValue })
    }
  }
}

/**
 * `KTable.groupBy(selector)`: maps each update to the group it leaves (old value: subtract) and the group it joins
 * (new value: add), old first, as Kafka Streams does; one record with both when the group stays the same.
 */
export function tableRepartitionMapProcessor<K, V, KR, VR>(
  selector: (key: K, value: V) => readonly [KR, VR],
  sameKey: (a: KR, b: KR) => boolean
): ProcessorSupplier<K, Change<V>, KR, Change<VR>> {
  return () => {
    let context: ProcessorContext<KR, Change<VR>>
    return {
      init(c) {
        context = c
      },
      process(record) {
        const { newValue, oldValue } = record.value
        const oldPair = oldValue === null ? null : selector(record.key, oldValue)
        const newPair = newValue === null ? null : selector(record.key, newValue)
        const forward = (key: KR, change: Change<VR>) => context.forward({ ...record, key, value: change })
        const usable = (pair: readonly [KR, VR] | null): pair is readonly [KR, VR] =>
          pair !== null && pair[0] !== null && pair[0] !== undefined && pair[1] !== null
        if (newPair !== null && (newPair[0] === null || newPair[0] === undefined)) {
          context.recordDropped('null-key', 'KTable.groupBy(): the selector returned a null key')
        }
        if (usable(oldPair) && usable(newPair) && sameKey(oldPair[0], newPair[0])) {
          return forward(newPair[0], { newValue: newPair[1], oldValue: oldPair[1] })
        }
        return andThen(
          () => (usable(oldPair) ? forward(oldPair[0], { newValue: null, oldValue: oldPair[1] }) : undefined),
          () => (usable(newPair) ? forward(newPair[0], { newValue: newPair[1], oldValue: null }) : undefined)
        )
      }
    }
  }
}
