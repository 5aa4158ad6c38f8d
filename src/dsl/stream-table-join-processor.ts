import type { TimestampedKeyValueStore } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier } from '../topology/index.ts'
import type { ValueJoiner } from './joined.ts'

/**
 * A stream-table join (Kafka Streams' KStreamKTableJoinProcessor, non-versioned table): each stream record looks up
 * the table's current value for its key and, if there is one (or for a left join, always), forwards
 * `joiner(value, tableValue, key)` with the stream record's key and timestamp. Table updates emit nothing.
 *
 * Records with a null value are dropped (a null value means "no record" in a join), and so are records with a
 * null key, except in a left join, where a record with a null key and a value joins with null (KIP-962).
 */
export function streamTableJoinProcessor<K, V, VT, VR>(
  tableStoreName: string,
  joiner: ValueJoiner<K, V, VT | null, VR>,
  leftJoin: boolean
): ProcessorSupplier<K, V, K, VR> {
  return () => {
    let context: ProcessorContext<K, VR>
    let table: TimestampedKeyValueStore<K, VT>
    return {
      init(c) {
        context = c
        table = c.getStateStore<TimestampedKeyValueStore<K, VT>>(tableStoreName)
      },
      process(record) {
        const nullKey = record.key === null || record.key === undefined
        if (record.value === null) {
          context.recordDropped('null-value', 'a stream-table join skips records with a null value')
          return
        }
        if (nullKey && !leftJoin) {
          context.recordDropped('null-key', 'an inner stream-table join skips records with a null key')
          return
        }
        const tableValue = nullKey ? null : (table.get(record.key)?.value ?? null)
        if (tableValue === null && !leftJoin) return
        return context.forward({ ...record, value: joiner(record.value, tableValue, record.key) })
      }
    }
  }
}
