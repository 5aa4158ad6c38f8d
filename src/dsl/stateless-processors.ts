import type { ProcessorContext, ProcessorSupplier, StreamRecord } from '../topology/index.ts'
import { forEachOfIterable } from '../topology/index.ts'

/**
 * The processors behind the stateless DSL operations. Each is a function of one record: it keeps the timestamp and
 * headers, and forwards what the user's function returned.
 */

function recordProcessor<K, V, KR, VR>(
  handle: (record: StreamRecord<K, V>, context: ProcessorContext<KR, VR>) => void | Promise<void>
): ProcessorSupplier<K, V, KR, VR> {
  return () => {
    let context: ProcessorContext<KR, VR>
    return {
      init(c) {
        context = c
      },
      process: (record) => handle(record, context)
    }
  }
}

export function passThrough<K, V>(): ProcessorSupplier<K, V, K, V> {
  return recordProcessor((record, context) => context.forward(record))
}

export function filterProcessor<K, V>(
  predicate: (key: K, value: V) => boolean,
  keep: boolean
): ProcessorSupplier<K, V, K, V> {
  return recordProcessor((record, context) => {
    if (Boolean(predicate(record.key, record.value)) === keep) return context.forward(record)
  })
}

export function mapProcessor<K, V, KR, VR>(
  mapper: (key: K, value: V) => readonly [KR, VR]
): ProcessorSupplier<K, V, KR, VR> {
  return recordProcessor((record, context) => {
    const [key, value] = mapper(record.key, record.value)
    return context.forward({ ...record, key, value })
  })
}

export function mapValuesProcessor<K, V, VR>(mapper: (value: V, key: K) => VR): ProcessorSupplier<K, V, K, VR> {
  return recordProcessor((record, context) => context.forward({ ...record, value: mapper(record.value, record.key) }))
}

export function selectKeyProcessor<K, V, KR>(selector: (key: K, value: V) => KR): ProcessorSupplier<K, V, KR, V> {
  return recordProcessor((record, context) => context.forward({ ...record, key: selector(record.key, record.value) }))
}

export function flatMapProcessor<K, V, KR, VR>(
  mapper: (key: K, value: V) => Iterable<readonly [KR, VR]>
): ProcessorSupplier<K, V, KR, VR> {
  return recordProcessor((record, context) =>
    forEachOfIterable(mapper(record.key, record.value)[Symbol.iterator](), ([key, value]) =>
      context.forward({ ...record, key, value })
    )
  )
}

export function flatMapValuesProcessor<K, V, VR>(
  mapper: (value: V, key: K) => Iterable<VR>
): ProcessorSupplier<K, V, K, VR> {
  return recordProcessor((record, context) =>
    forEachOfIterable(mapper(record.value, record.key)[Symbol.iterator](), (value) =>
      context.forward({ ...record, value })
    )
  )
}

/** Calls `action` and forwards the record unchanged (`peek`), or forwards nothing (`foreach`, a terminal node). */
export function actionProcessor<K, V>(
  action: (key: K, value: V) => void,
  forward: boolean
): ProcessorSupplier<K, V, K, V> {
  return recordProcessor((record, context) => {
    action(record.key, record.value)
    if (forward) return context.forward(record)
  })
}

export interface Branch<K, V> {
  readonly predicate: (key: K, value: V) => boolean
  readonly childName: string
}

/**
 * Sends each record to the first branch whose predicate holds. `branches` is read at each record, not copied: the DSL
 * adds branches after this node exists.
 */
export function splitProcessor<K, V>(branches: readonly Branch<K, V>[]): ProcessorSupplier<K, V, K, V> {
  return recordProcessor((record, context) => {
    for (const branch of branches) {
      if (branch.predicate(record.key, record.value)) return context.forward(record, branch.childName)
    }
  })
}
