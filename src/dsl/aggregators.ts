/**
 * The functions aggregations take, with Kafka Streams' argument orders, and how `count` and `reduce` are expressed
 * as aggregations. Counts are `bigint`, as Kafka Streams' are `Long`, so they serialize with `Serdes.long()` and
 * read back the same in Java.
 */

/** The aggregate of an empty group (or window, or session). */
export type Initializer<VA> = () => VA
/** Adds a record's value to a group's aggregate: `(key, value, aggregate) => newAggregate`. */
export type Aggregator<K, V, VA> = (key: K, value: V, aggregate: VA) => VA
/** Combines two values of a group: `(aggregate, value) => newAggregate`. */
export type Reducer<V> = (aggregate: V, value: V) => V
/** Combines the aggregates of two sessions that a record joined into one. */
export type Merger<K, VA> = (key: K, aggregate1: VA, aggregate2: VA) => VA

export const countInitializer: Initializer<bigint> = () => 0n
export const countAdder = (): Aggregator<unknown, unknown, bigint | null> => (_key, _value, count) => (count ?? 0n) + 1n
export const countSubtractor = (): Aggregator<unknown, unknown, bigint> => (_key, _value, count) => count - 1n
export const countMerger: Merger<unknown, bigint | null> = (_key, a, b) => (a ?? 0n) + (b ?? 0n)

/**
 * A reduce as an aggregation whose empty aggregate is `null`: the first value of a group becomes its aggregate
 * as it is (the reducer is not called), as in Kafka Streams.
 */
export function reduceInitializer<V>(): Initializer<V | null> {
  return () => null
}

export function reduceAggregator<K, V>(reducer: Reducer<V>): Aggregator<K, V, V | null> {
  return (_key, value, aggregate) => (aggregate === null ? value : reducer(aggregate, value))
}

export function reduceMerger<K, V>(reducer: Reducer<V>): Merger<K, V | null> {
  return (_key, a, b) => (a === null ? b : b === null ? a : reducer(a, b))
}
