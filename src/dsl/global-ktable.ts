import type { DslContext } from './dsl-context.ts'
import type { KnownSerdes } from './kstream.ts'

/**
 * A table filled from every partition of its topic in every instance (Kafka Streams' `GlobalKTable`): each instance
 * holds all of it, so a stream joins it by any key its `KeyValueMapper` computes, without repartitioning or
 * co-partitioning. Made by `StreamsBuilder.globalTable()`; used by `KStream.join` / `leftJoin`.
 */
export class GlobalKTable<K, V> {
  /** @internal */
  readonly dsl: DslContext
  /** @internal */
  readonly serdes: KnownSerdes<K, V>
  /** The global store holding the table. */
  readonly queryableStoreName: string

  constructor(dsl: DslContext, storeName: string, serdes: KnownSerdes<K, V>) {
    this.dsl = dsl
    this.queryableStoreName = storeName
    this.serdes = serdes
  }
}
