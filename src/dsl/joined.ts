import type { Serde } from '../serde/index.ts'

/**
 * Combines the values of a join's two sides into the result value. Called with `(value, otherValue, key)`: the
 * stream's (left) value, the other side's value (null in a left or outer join when nothing matched) and the key,
 * Kafka Streams' `ValueJoinerWithKey` with the key last, as Streamlane's value mappers take it.
 */
export type ValueJoiner<K, V, VO, VR> = (value: V, otherValue: VO, key: K) => VR

/**
 * Options of a stream-table join. When the stream's key changed since it was last partitioned, the stream is sent
 * through `<app.id>-<name>-repartition` first (name: `name`, else the join node's); the serdes are those of that
 * topic, needed when the stream no longer knows them.
 */
export interface Joined<K, V> {
  /** The join node's name (default `KSTREAM-JOIN-<n>` / `KSTREAM-LEFTJOIN-<n>`); also names the repartition topic. */
  readonly name?: string
  readonly keySerde?: Serde<K>
  readonly valueSerde?: Serde<V>
}

/**
 * Options of a stream-stream join: the serdes of both sides' window stores (and repartition topics), and a name
 * for the stores (`<storeName>-this-join-store`, `<storeName>-other-join-store`, `<storeName>-outer-shared-join-store`)
 * and so for their changelogs. Default store names are generated from the join node names.
 */
export interface StreamJoined<K, V, VO> {
  readonly name?: string
  readonly storeName?: string
  readonly keySerde?: Serde<K>
  readonly valueSerde?: Serde<V>
  readonly otherValueSerde?: Serde<VO>
  /** Window stores in LMDB (default) or on the heap. */
  readonly persistent?: boolean
  /** Changelog the window stores (default true). */
  readonly logging?: boolean
}
