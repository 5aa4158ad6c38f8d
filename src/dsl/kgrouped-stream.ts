import type { Serde } from '../serde/index.ts'
import { longSerde } from '../serde/index.ts'
import type { ProcessorSupplier, StoreBuilder } from '../topology/index.ts'
import { streamAggregateProcessor } from './aggregate-processors.ts'
import {
  type Aggregator,
  countAdder,
  countInitializer,
  type Initializer,
  type Reducer,
  reduceAggregator,
  reduceInitializer
} from './aggregators.ts'
import type { Change } from './change.ts'
import { CogroupedKStream } from './cogrouped-kstream.ts'
import type { DslContext } from './dsl-context.ts'
import type { Grouped } from './dsl-options.ts'
import { addDslStore, requireSerde, storeNameFor, tableStoreBuilder } from './dsl-stores.ts'
import { nullKeyFilter } from './grouping-processors.ts'
import { groupedName } from './kgrouped-table.ts'
import type { KStream } from './kstream.ts'
import { KTable } from './ktable.ts'
import type { Materialized } from './materialized.ts'
import { SessionWindowedKStream } from './session-windowed-kstream.ts'
import { TimeWindowedKStream } from './time-windowed-kstream.ts'
import type { SessionWindows, SlidingWindows, TimeWindows, WindowedTableInfo } from './windows.ts'

/** What an aggregation node of a grouped stream needs: its input node and the serdes it was grouped with. */
export interface AggregationInput<K, V> {
  readonly dsl: DslContext
  readonly nodeName: string
  readonly keySerde: Serde<K>
  readonly valueSerde: Serde<V> | undefined
}

/**
 * A stream grouped by key (`groupByKey()` / `groupBy(selector)`), ready for an aggregation. When the key changed
 * since the records were last partitioned by it, the aggregation reads them through `<app.id>-<name>-repartition`
 * (name: `Grouped.name`, else the aggregation's store name, e.g. `KSTREAM-AGGREGATE-STATE-STORE-0000000003`), so all
 * records of a key meet in one task. Records without a key are dropped and counted there (`dropped['null-key']`).
 */
export class KGroupedStream<K, V> {
  readonly #stream: KStream<K, V>
  readonly #grouped: Grouped<K, V>

  /** @internal Made by `KStream.groupByKey()` and `groupBy()`. */
  constructor(stream: KStream<K, V>, grouped: Grouped<K, V>) {
    this.#stream = stream
    this.#grouped = grouped
  }

  /** The number of records per key (`bigint`, written with `Serdes.long()` by default). */
  count(materialized: Materialized<K, bigint> = {}): KTable<K, bigint> {
    return this.#aggregate('count', materialized, longSerde(), countInitializer, countAdder())
  }

  /** Combines the values of a key: the first value as it is, then `reducer(aggregate, value)`. */
  reduce(reducer: Reducer<V>, materialized: Materialized<K, V> = {}): KTable<K, V> {
    const known = this.#grouped.valueSerde ?? this.#stream.serdes.valueSerde
    return this.#aggregate('reduce', materialized, known, reduceInitializer<V>(), reduceAggregator<K, V>(reducer))
  }

  /** Folds the values of a key into an aggregate of any type; pass its serde in `materialized.valueSerde`. */
  aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    materialized: Materialized<K, VA> = {}
  ): KTable<K, VA> {
    return this.#aggregate('aggregate', materialized, undefined, initializer, aggregator as never)
  }

  /** Aggregates per window: tumbling or hopping (`TimeWindows`), sliding (`SlidingWindows`) or session windows. */
  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedKStream<K, V>
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>
  windowedBy(
    windows: TimeWindows | SlidingWindows | SessionWindows
  ): TimeWindowedKStream<K, V> | SessionWindowedKStream<K, V> {
    if (windows.kind === 'session') return new SessionWindowedKStream(this, windows)
    return new TimeWindowedKStream(this, windows)
  }

  /** @internal The serde the aggregation store's values default to (reduce keeps the stream's value type). */
  get knownValueSerde(): Serde<V> | undefined {
    return this.#grouped.valueSerde ?? this.#stream.serdes.valueSerde
  }

  /**
   * @internal Adds an aggregation over this grouped stream: the repartition topic when needed, the processor and its
   * store, and returns the resulting table.
   */
  addAggregation<KR, VR>(options: {
    readonly operation: string
    readonly processorPrefix: string
    readonly materialized: Materialized<unknown, unknown>
    readonly storePrefix: string
    readonly supplier: (storeName: string) => ProcessorSupplier<K, V, KR, Change<VR>>
    readonly store: (storeName: string, keySerde: Serde<K>) => StoreBuilder
    readonly resultSerdes: (keySerde: Serde<K>) => { keySerde: Serde<KR>; valueSerde: Serde<VR> }
    readonly windowInfo?: WindowedTableInfo
  }): KTable<KR, VR> {
    const dsl = this.#stream.dsl
    const storeName = storeNameFor(dsl, options.materialized, options.storePrefix)
    const where = `${options.operation}() of store ${storeName}`
    const keySerde = requireSerde(
      this.#grouped.keySerde ?? (options.materialized.keySerde as Serde<K> | undefined),
      this.#stream.serdes.keySerde,
      'key',
      where,
      'Grouped (groupBy(selector, { keySerde }))'
    )
    const input = this.#input(storeName, keySerde, where)
    const nodeName = dsl.newName(options.processorPrefix)
    dsl.topology.addProcessor(nodeName, options.supplier(storeName), input)
    addDslStore(dsl, options.store(storeName, keySerde), nodeName)
    return new KTable<KR, VR>(dsl, nodeName, options.resultSerdes(keySerde), storeName, options.windowInfo ?? null)
  }

  #aggregate<VA>(
    operation: string,
    materialized: Materialized<K, VA>,
    defaultValueSerde: Serde<VA> | undefined,
    initializer: Initializer<VA | null>,
    aggregator: Aggregator<K, V, VA | null>
  ): KTable<K, VA> {
    let valueSerde: Serde<VA> | undefined
    return this.addAggregation<K, VA>({
      operation,
      processorPrefix: operation === 'reduce' ? 'KSTREAM-REDUCE' : 'KSTREAM-AGGREGATE',
      materialized: materialized as Materialized<unknown, unknown>,
      storePrefix: operation === 'reduce' ? 'KSTREAM-REDUCE-STATE-STORE' : 'KSTREAM-AGGREGATE-STATE-STORE',
      supplier: (storeName) => streamAggregateProcessor(storeName, initializer, aggregator),
      store: (storeName, keySerde) => {
        valueSerde = requireSerde(
          materialized.valueSerde,
          defaultValueSerde,
          'value',
          `${operation}() of store ${storeName}`,
          'Materialized'
        )
        return tableStoreBuilder(
          storeName,
          materialized.keySerde ?? keySerde,
          valueSerde,
          materialized as Materialized<unknown, unknown>
        )
      },
      resultSerdes: (keySerde) => ({ keySerde, valueSerde: valueSerde! })
    })
  }

  /** @internal The node an aggregation over this grouped stream reads (see `#input`); used by `cogroup`. */
  inputNode(storeName: string, keySerde: Serde<K>, where: string): string {
    return this.#input(storeName, keySerde, where)
  }

  /** @internal The key serde this grouped stream knows (from `Grouped` or the stream). */
  get knownKeySerde(): Serde<K> | undefined {
    return this.#grouped.keySerde ?? this.#stream.serdes.keySerde
  }

  /** @internal */
  get dsl(): DslContext {
    return this.#stream.dsl
  }

  /**
   * Starts a co-grouped aggregation (Kafka Streams' `cogroup`): several grouped streams with the same key type, each
   * with its own aggregator, into one aggregate per key. Add more with `.cogroup(other, aggregator)`, then call
   * `.aggregate(initializer, materialized)`.
   */
  cogroup<VA>(aggregator: Aggregator<K, V, VA>): CogroupedKStream<K, VA> {
    return new CogroupedKStream<K, VA>([
      [this as unknown as KGroupedStream<K, unknown>, aggregator as Aggregator<K, unknown, VA>]
    ])
  }

  /** The node the aggregation reads: the stream itself, or a repartition topic's source when the key changed. */
  #input(storeName: string, keySerde: Serde<K>, where: string): string {
    const stream = this.#stream
    if (!stream.repartitionRequired) return stream.nodeName
    const dsl = stream.dsl
    const base = groupedName(this.#grouped.name) ?? storeName
    const valueSerde = requireSerde(
      this.#grouped.valueSerde,
      stream.serdes.valueSerde,
      'value',
      `${where}: repartition topic ${base}-repartition`,
      'Grouped (groupBy(selector, { valueSerde }))'
    )
    const topic = dsl.topology.addRepartitionTopic(base)
    dsl.topology.addProcessor(
      `${base}-repartition-filter`,
      nullKeyFilter<K, V>(`repartition topic ${topic}`),
      stream.nodeName
    )
    dsl.topology.addSink(`${base}-repartition-sink`, topic, { keySerde, valueSerde }, `${base}-repartition-filter`)
    dsl.topology.addSource(`${base}-repartition-source`, topic, { keySerde, valueSerde })
    return `${base}-repartition-source`
  }
}
