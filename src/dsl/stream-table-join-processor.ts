import type { TimestampedKeyValueStore } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier } from '../topology/index.ts'
import type { ValueJoiner } from './joined.ts'

/**
 * A stream-table join (Kafka Streams' KStreamKTableJoinProcessor, non-versioned table): each stream record looks up
 * the table's current value for its key and, if there is one (or for a left join, always), forwards
 * `joiner(value, tableValue, key)` with the stream record's key and timestamp. Table updates emit nothing.
 *
 * Records with a null value are dropped (a null value means "no record" in a join), and so are records with a
 * null key, except in a left join, where a record with a null key and a value joins with null (KIP-962). With
 * `tableKeyOf` (a stream-GlobalKTable join), the same holds for the table key it returns.
 */
export function streamTableJoinProcessor<K, V, VT, VR, KT = K>(
  tableStoreName: string,
  joiner: ValueJoiner<K, V, VT | null, VR>,
  leftJoin: boolean,
  /** The table key to look up (a stream-GlobalKTable join's `KeyValueMapper`); default: the record's key. */
  tableKeyOf: (key: K, value: V) => KT | null | undefined = (key) => key as unknown as KT
): ProcessorSupplier<K, V, K, VR> {
  return () => {
    let context: ProcessorContext<K, VR>
    let table: TimestampedKeyValueStore<KT, VT>
    return {
      init(c) {
        context = c
        table = c.getStateStore<TimestampedKeyValueStore<KT, VT>>(tableStoreName)
      },
      process(record) {
        if (record.value === null) {
          context.recordDropped('null-value', 'a stream-table join skips records with a null value')
          return
        }
        // A GlobalKTable's mapper sees records without a key too (it may find a table key in the value).
        const tableKey = tableKeyOf(record.key, record.value)
        const nullKey = tableKey === null || tableKey === undefined
        if (nullKey && !leftJoin) {
          context.recordDropped('null-key', 'an inner stream-table join skips records with a null (join) key')
          return
        }
        const tableValue = nullKey ? null : (table.get(tableKey)?.value ?? null)
        if (tableValue === null && !leftJoin) return
        return context.forward({ ...record, value: joiner(record.value, tableValue, record.key) })
      }
    }
  }
}
