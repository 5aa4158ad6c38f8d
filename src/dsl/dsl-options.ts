import type { Serde } from '../serde/index.ts'
import type { StreamPartitioner, TimestampExtractor } from '../topology/index.ts'

/** How `stream()` reads a topic. Serdes default to bytes (the stream is then `KStream<Buffer, Buffer>`). */
export interface Consumed<K, V> {
  readonly keySerde?: Serde<K>
  readonly valueSerde?: Serde<V>
  readonly timestampExtractor?: TimestampExtractor<K, V>
  /** The source node's name; default `KSTREAM-SOURCE-<n>`. */
  readonly name?: string
}

/**
 * How `to()` writes a topic. A serde left out is taken from the stream when it is still known (no operation changed
 * that half of the record since the last serde was given); otherwise `to()` fails, naming what to pass.
 */
export interface Produced<K, V> {
  readonly keySerde?: Serde<K>
  readonly valueSerde?: Serde<V>
  readonly partitioner?: StreamPartitioner<K, V>
  /** The sink node's name; default `KSTREAM-SINK-<n>`. */
  readonly name?: string
}

/** How `repartition()` redistributes records by key through `<app.id>-<name>-repartition`. */
export interface Repartitioned<K, V> {
  /** Names the topic and its nodes; default `KSTREAM-REPARTITION-<n>`. Name it: the topic name then survives code changes. */
  readonly name?: string
  /** Default: the partition count of the inputs of the sub-topology writing it. */
  readonly partitions?: number
  readonly keySerde?: Serde<K>
  readonly valueSerde?: Serde<V>
  readonly partitioner?: StreamPartitioner<K, V>
}

/**
 * How `groupByKey()` / `groupBy()` group records. When the key changed since the records were last partitioned by it,
 * they go through `<app.id>-<name>-repartition` first; `name` (default: the aggregation's store name) names that
 * topic and its nodes, and the serdes are those it is written with.
 */
export interface Grouped<K, V> {
  readonly name?: string
  readonly keySerde?: Serde<K>
  readonly valueSerde?: Serde<V>
}
