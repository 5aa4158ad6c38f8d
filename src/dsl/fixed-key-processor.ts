import type { ProcessorContext, ProcessorSupplier } from '../topology/index.ts'
import { TopologyError } from '../topology/index.ts'

/**
 * `KStream.processValues()`: a Processor API processor that may change values but not keys (Kafka Streams'
 * FixedKeyProcessor), so the stream keeps its partitioning and a later grouping or join needs no repartition.
 * Wraps the user's processor: a record it forwards while processing an input record must carry that record's key
 * (spread it: `context.forward({ ...record, value })`), else the task fails with an error saying so.
 */
export function fixedKeyProcessor<K, V, VOut>(
  supplier: ProcessorSupplier<K, V, K, VOut>,
  nodeName: string
): ProcessorSupplier<K, V, K, VOut> {
  return () => {
    const inner = supplier()
    let processing = false
    let currentKey: K
    return {
      init(context) {
        const forward: ProcessorContext<K, VOut>['forward'] = (record, childName) => {
          if (processing && record.key !== currentKey) {
            throw new TopologyError(
              `processValues(${nodeName}): the processor forwarded a record with another key; processValues keeps ` +
                'keys (use process() to change them)'
            )
          }
          return context.forward(record, childName)
        }
        const fixedKeyContext = new Proxy(context, {
          get(target, property) {
            if (property === 'forward') return forward
            const value = Reflect.get(target, property, target)
            return typeof value === 'function' ? value.bind(target) : value
          }
        })
        inner.init?.(fixedKeyContext)
      },
      process(record) {
        currentKey = record.key
        processing = true
        try {
          return inner.process(record)
        } finally {
          processing = false
        }
      },
      ...(inner.close === undefined ? {} : { close: () => inner.close?.() })
    }
  }
}
