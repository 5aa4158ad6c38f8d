import type { ProcessorContext, ProcessorSupplier } from '../topology/index.ts'

/**
 * Drops records without a key before a repartition topic of a grouping: they cannot be grouped, and would be spread
 * over partitions at random. Counted in `dropped['null-key']` and logged with topic, partition and offset.
 */
export function nullKeyFilter<K, V>(what: string): ProcessorSupplier<K, V, K, V> {
  return () => {
    let context: ProcessorContext<K, V>
    return {
      init(c) {
        context = c
      },
      process(record) {
        if (record.key === null || record.key === undefined) {
          context.recordDropped('null-key', `grouping needs a key; a record without one cannot go to ${what}`)
          return
        }
        return context.forward(record)
      }
    }
  }
}
