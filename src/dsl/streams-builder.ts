import { bytesSerde } from '../serde/index.ts'
import type { ProcessorSupplier, StateStore, StoreBuilder } from '../topology/index.ts'
import { Topology, TopologyError } from '../topology/index.ts'
import { DslContext } from './dsl-context.ts'
import type { Consumed } from './dsl-options.ts'
import { addDslStore, storeNameFor, tableStoreBuilder } from './dsl-stores.ts'
import { GlobalKTable } from './global-ktable.ts'
import { KStream } from './kstream.ts'
import { KTable } from './ktable.ts'
import type { Materialized } from './materialized.ts'
import { MATERIALIZED, unnamedSource } from './old-values.ts'
import { tableSourceProcessor } from './table-processors.ts'

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

  /**
   * A table of a topic: the latest value per key, where a null value deletes the key and records without a key are
   * dropped (and counted). The table lives in a store (`materialized.storeName`, default `<topic>-STATE-STORE-<n>`)
   * whose changelog is the topic itself: nothing else is written, and a restore reads the topic (Kafka Streams'
   * source-topic reuse). That holds while the store's serdes are the topic's; with other serdes in `materialized` the
   * store gets its own `<app.id>-<store>-changelog`.
   */
  table<K = Buffer, V = Buffer>(
    topic: string,
    consumed: Consumed<K, V> = {},
    materialized: Materialized<K, V> = {}
  ): KTable<K, V> {
    if (typeof topic !== 'string' || topic.length === 0)
      throw new TopologyError('table() reads one topic, given by name')
    const sourceName = this.dsl.nameOr(consumed.name, 'KSTREAM-SOURCE')
    const keySerde = consumed.keySerde ?? (bytesSerde() as never)
    const valueSerde = consumed.valueSerde ?? (bytesSerde() as never)
    this.dsl.topology.addSource<K, V>(sourceName, topic, {
      keySerde,
      valueSerde,
      ...(consumed.timestampExtractor ? { timestampExtractor: consumed.timestampExtractor } : {})
    })
    const storeName = storeNameFor(this.dsl, materialized as Materialized<unknown, unknown>, `${topic}-STATE-STORE`)
    const processorName = this.dsl.newName('KTABLE-SOURCE')
    // Unnamed, the table is materialized (cached, sending old values) only if an operation downstream needs it.
    const oldValues = materialized.storeName === undefined ? unnamedSource() : MATERIALIZED
    const supplier = tableSourceProcessor<K, V>(storeName, () => oldValues.enabled)
    this.dsl.topology.addProcessor(processorName, supplier, sourceName)
    const storeKeySerde = materialized.keySerde ?? keySerde
    const storeValueSerde = materialized.valueSerde ?? valueSerde
    const builder = tableStoreBuilder(
      storeName,
      storeKeySerde,
      storeValueSerde,
      materialized as Materialized<unknown, unknown>
    )
    addDslStore(this.dsl, builder, processorName)
    if (builder.loggingEnabled && storeKeySerde === keySerde && storeValueSerde === valueSerde) {
      this.dsl.topology.useSourceTopicAsChangelog(storeName, topic)
    }
    return new KTable<K, V>(
      this.dsl,
      processorName,
      { keySerde: storeKeySerde, valueSerde: storeValueSerde },
      storeName,
      null,
      oldValues
    )
  }

  /**
   * A table of every partition of a topic, whole in every instance (Kafka Streams' `GlobalKTable`): filled before
   * processing starts and kept up to date while the app runs, readable by any task, joined by streams through a
   * key mapper. Its store (`materialized.storeName`, default `<topic>-STATE-STORE-<n>`) is on the heap and filled from
   * the topic at every start: the topic is its changelog.
   */
  globalTable<K = Buffer, V = Buffer>(
    topic: string,
    consumed: Consumed<K, V> = {},
    materialized: Materialized<K, V> = {}
  ): GlobalKTable<K, V> {
    if (typeof topic !== 'string' || topic.length === 0)
      throw new TopologyError('globalTable() reads one topic, given by name')
    // Names as Kafka Streams numbers them (source, store, table source), so later generated names match.
    const sourceName = this.dsl.nameOr(consumed.name, 'KSTREAM-SOURCE')
    const storeName = storeNameFor(this.dsl, materialized as Materialized<unknown, unknown>, `${topic}-STATE-STORE`)
    const processorName = this.dsl.newName('KTABLE-SOURCE')
    const keySerde = consumed.keySerde ?? (bytesSerde() as never)
    const valueSerde = consumed.valueSerde ?? (bytesSerde() as never)
    // The topic's bytes go into the store as they are: the store has the topic's serdes.
    const builder = tableStoreBuilder(storeName, keySerde, valueSerde, {
      ...(materialized as Materialized<unknown, unknown>),
      caching: false,
      logging: false,
      persistent: false
    })
    this.dsl.topology.addGlobalStore(builder, topic, { sourceName, processorName })
    return new GlobalKTable<K, V>(this.dsl, storeName, { keySerde, valueSerde })
  }

  /**
   * A global store of your own (Kafka Streams' `addGlobalStore`): `processor` gets every record of every partition of
   * `topic`, deserialized with `consumed`'s serdes, and writes the store (`context.getStateStore(builder.name)`); it
   * forwards nothing. Every processor of the app may read the store, and interactive queries find it on every
   * instance. The builder must have logging off (the topic is the changelog); the store is filled again from the
   * beginning of the topic, through the processor, at each start.
   */
  addGlobalStore<K = Buffer, V = Buffer>(
    builder: StoreBuilder,
    topic: string,
    consumed: Consumed<K, V>,
    processor: ProcessorSupplier<K, V, void, void>
  ): this {
    // Names as Kafka Streams gives them (a source, then a KTABLE-SOURCE processor), so later generated names match.
    const sourceName = this.dsl.nameOr(consumed.name, 'KSTREAM-SOURCE')
    const processorName = this.dsl.newName('KTABLE-SOURCE')
    this.dsl.topology.addGlobalStore<K, V>(builder, topic, {
      processor,
      sourceName,
      processorName,
      ...(consumed.keySerde ? { keySerde: consumed.keySerde } : {}),
      ...(consumed.valueSerde ? { valueSerde: consumed.valueSerde } : {}),
      ...(consumed.timestampExtractor ? { timestampExtractor: consumed.timestampExtractor } : {})
    })
    return this
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
