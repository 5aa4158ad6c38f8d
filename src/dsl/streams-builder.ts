import { bytesSerde } from '../serde/primitive-serdes.ts'
import type { StateStore, StoreBuilder } from '../topology/state-store.ts'
import { Topology } from '../topology/topology.ts'
import { DslContext } from './dsl-context.ts'
import type { Consumed } from './dsl-options.ts'
import { KStream } from './kstream.ts'

/**
 * The DSL's entry point: `stream()` starts typed streams, `build()` returns the `Topology` they form.
 *
 * Tables, grouping, windows and joins are added by the state layer on the same `DslContext`, the way `KStream`
 * operations are: each is sugar that adds nodes (and stores, and repartition topics) to the one topology.
 */
export class StreamsBuilder {
  /** @internal */
  readonly dsl: DslContext = new DslContext(new Topology())

  /** A stream of the records of one or more topics, or of every topic matching a pattern. */
  stream<K = Buffer, V = Buffer>(
    topics: string | readonly string[] | RegExp,
    consumed: Consumed<K, V> = {}
  ): KStream<K, V> {
    const name = this.dsl.nameOr(consumed.name, 'KSTREAM-SOURCE')
    const keySerde = consumed.keySerde ?? (bytesSerde() as never)
    const valueSerde = consumed.valueSerde ?? (bytesSerde() as never)
    this.dsl.topology.addSource<K, V>(name, topics, {
      keySerde,
      valueSerde,
      ...(consumed.timestampExtractor ? { timestampExtractor: consumed.timestampExtractor } : {})
    })
    return new KStream<K, V>(this.dsl, name, { keySerde, valueSerde }, false)
  }

  /** Adds a store that `KStream.process(supplier, storeName)` can then use. */
  addStateStore<S extends StateStore>(builder: StoreBuilder<S>): this {
    this.dsl.topology.addStateStore(builder)
    return this
  }

  /** The topology built so far (the same object on every call). */
  build(): Topology {
    return this.dsl.topology
  }
}
