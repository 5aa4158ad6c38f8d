import type { TimestampedKeyValueStore } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier } from '../topology/index.ts'
import type { Change } from './change.ts'
import { putAndForward, type TableForward, tableForwarder, unwrapTimestamped } from './table-forwarder.ts'

/**
 * Kafka Streams' `ValueTransformerWithKey`: a stateful value mapper of `KTable.transformValues`, made per task. It
 * can read the stores connected to it through the context given to `init`. Unlike `mapValues`' mapper it is also
 * called for deletes, with a `null` value, and its result (even non-null) is the key's new value.
 */
export interface ValueTransformerWithKey<K, V, VR> {
  init?(context: ProcessorContext<unknown, unknown>): void
  transform(key: K, value: V | null): VR | null
  close?(): void
}

export type ValueTransformerWithKeySupplier<K, V, VR> = () => ValueTransformerWithKey<K, V, VR>

/**
 * The processor of `KTable.transformValues` (Kafka Streams' KTableTransformValues): transforms the new value, and
 * the old one when this node sends old values; or, materialized in `storeName`, stores the new value and takes the
 * old value from the store.
 */
export function tableTransformValuesProcessor<K, V, VR>(
  supplier: ValueTransformerWithKeySupplier<K, V, VR>,
  storeName: string | null,
  sendsOldValues: () => boolean
): ProcessorSupplier<K, Change<V>, K, Change<VR>> {
  return () => {
    const transformer = supplier()
    let context: ProcessorContext<K, Change<VR>>
    let store: TimestampedKeyValueStore<K, VR> | null = null
    let forward: TableForward<K, VR>
    return {
      init(c) {
        context = c
        if (storeName !== null) {
          store = c.getStateStore<TimestampedKeyValueStore<K, VR>>(storeName)
          forward = tableForwarder(store, c, unwrapTimestamped)
        }
        transformer.init?.(c as ProcessorContext<unknown, unknown>)
      },
      process(record) {
        const newValue = transformer.transform(record.key, record.value.newValue)
        if (store !== null) return putAndForward(store, forward, record, newValue)
        const oldValue = sendsOldValues() ? transformer.transform(record.key, record.value.oldValue) : null
        return context.forward({ ...record, value: { newValue, oldValue } })
      },
      close() {
        transformer.close?.()
      }
    }
  }
}
