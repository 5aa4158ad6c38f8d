import type { TimestampedKeyValueStore } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier } from '../topology/index.ts'
import type { Change } from './change.ts'

/**
 * How one side of a table-table join treats a missing value on the other side (Kafka Streams' KTableKTableInnerJoin,
 * LeftJoin, RightJoin, OuterJoin processors):
 * - `inner`: nothing is forwarded while the other side has no value;
 * - `left`: this side is the left of a left join: results with null for the other side;
 * - `right`: this side is the right of a left join: nothing while the left has no value, and a delete here gives
 *   the left value joined with null;
 * - `outer`: either side may be null.
 */
export type TableJoinSide = 'inner' | 'left' | 'right' | 'outer'

/**
 * One side of a table-table join: an update of this side's key looks up the other table's current value and
 * forwards the joined new value and (when this node sends old values) the joined old value, stamped with the later
 * of the two timestamps. `join(thisValue, otherValue, key)` is oriented for this side.
 */
export function tableTableJoinProcessor<K, VT, VO, VR>(
  side: TableJoinSide,
  otherStoreName: string,
  join: (thisValue: VT | null, otherValue: VO | null, key: K) => VR,
  sendsOldValues: () => boolean
): ProcessorSupplier<K, Change<VT>, K, Change<VR>> {
  return () => {
    let context: ProcessorContext<K, Change<VR>>
    let other: TimestampedKeyValueStore<K, VO>
    return {
      init(c) {
        context = c
        other = c.getStateStore<TimestampedKeyValueStore<K, VO>>(otherStoreName)
      },
      process(record) {
        if (record.key === null || record.key === undefined) {
          context.recordDropped('null-key', 'a table-table join skips records with a null key')
          return
        }
        const { newValue, oldValue } = record.value
        const found = other.get(record.key)
        const otherValue = found?.value ?? null
        if (otherValue === null && (side === 'inner' || side === 'right')) return
        if (otherValue === null && newValue === null && oldValue === null) return
        const timestamp = found === null ? record.timestamp : Math.max(record.timestamp, found.timestamp)
        const sendOld = sendsOldValues()
        let joinedNew: VR | null = null
        let joinedOld: VR | null = null
        if (side === 'right') {
          joinedNew = join(newValue, otherValue, record.key)
          if (sendOld) joinedOld = join(oldValue, otherValue, record.key)
        } else if (side === 'outer') {
          if (otherValue !== null || newValue !== null) joinedNew = join(newValue, otherValue, record.key)
          if (sendOld && (otherValue !== null || oldValue !== null)) joinedOld = join(oldValue, otherValue, record.key)
        } else {
          if (newValue !== null) joinedNew = join(newValue, otherValue, record.key)
          if (sendOld && oldValue !== null) joinedOld = join(oldValue, otherValue, record.key)
        }
        return context.forward({ ...record, value: { newValue: joinedNew, oldValue: joinedOld }, timestamp })
      }
    }
  }
}
