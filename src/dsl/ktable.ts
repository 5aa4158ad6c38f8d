import type { Serde } from '../serde/index.ts'
import { bytesSerde } from '../serde/index.ts'
import type { Windowed } from '../state/index.ts'
import { keyValueStoreBuilder } from '../state/index.ts'
import type { ProcessorSupplier } from '../topology/index.ts'
import { TopologyError } from '../topology/index.ts'
import type { Change } from './change.ts'
import type { DslContext } from './dsl-context.ts'
import type { Grouped } from './dsl-options.ts'
import { addDslStore, requireSerde, storeNameFor, tableStoreBuilder } from './dsl-stores.ts'
import { type ForeignKeyExtractor, foreignKeyJoin, type TableJoined } from './foreign-key-join.ts'
import type { ValueJoiner } from './joined.ts'
import { KGroupedTable } from './kgrouped-table.ts'
import { type KnownSerdes, KStream } from './kstream.ts'
import type { Materialized } from './materialized.ts'
import { derived, MATERIALIZED, type OldValues } from './old-values.ts'
import { suppressProcessor } from './suppress-processor.ts'
import type { Suppressed } from './suppressed.ts'
import { tableFilterProcessor, tableMapValuesProcessor, toStreamProcessor } from './table-processors.ts'
import { tableTableJoin } from './table-table-join.ts'
import { tableTransformValuesProcessor, type ValueTransformerWithKeySupplier } from './table-transform-values.ts'
import { timeLimitSuppressProcessor } from './time-limit-suppress-processor.ts'
import type { WindowedTableInfo } from './windows.ts'

/**
 * A changelog stream read as a table: the latest value per key, where a null value deletes the key. Its nodes
 * forward each update as a `Change` (new and old value), so derived tables stay exact: a filter retracts a key that
 * stops matching, a re-grouping subtracts the old value from its old group.
 *
 * Made by `StreamsBuilder.table()` and by aggregations (`count`, `reduce`, `aggregate`); windowed aggregations make a
 * `KTable<Windowed<K>, V>`, which `suppress()` can turn into final results.
 */
export class KTable<K, V> {
  /** @internal */
  readonly dsl: DslContext
  /** @internal The node forwarding this table's changes. */
  readonly nodeName: string
  /** @internal */
  readonly serdes: KnownSerdes<K, V>
  /** The store holding this table, when it is materialized (for interactive queries and the test driver). */
  readonly queryableStoreName: string | null
  /** @internal Set on windowed aggregation results: what `suppress()` needs to know. */
  readonly windowInfo: WindowedTableInfo | null
  /** @internal Whether this node sends old values (see old-values.ts). */
  readonly oldValues: OldValues

  constructor(
    dsl: DslContext,
    nodeName: string,
    serdes: KnownSerdes<K, V>,
    queryableStoreName: string | null,
    windowInfo: WindowedTableInfo | null = null,
    oldValues: OldValues = MATERIALIZED
  ) {
    this.dsl = dsl
    this.nodeName = nodeName
    this.serdes = serdes
    this.queryableStoreName = queryableStoreName
    this.windowInfo = windowInfo
    this.oldValues = oldValues
  }

  /**
   * Keeps the keys whose value matches; a key that stops matching is deleted downstream (tombstone). When this table
   * cannot send old values (an unnamed `builder.table()` nothing downstream materializes), every rejected record is
   * forwarded as a tombstone, as in Kafka Streams.
   */
  filter(predicate: (key: K, value: V) => boolean, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.#filter(predicate, true, materialized)
  }

  filterNot(predicate: (key: K, value: V) => boolean, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.#filter(predicate, false, materialized)
  }

  /** A table of mapped values (deletes stay deletes). */
  mapValues<VR>(mapper: (value: V, key: K) => VR, materialized?: Materialized<K, VR>): KTable<K, VR> {
    const nodeName = this.dsl.newName('KTABLE-MAPVALUES')
    const serdes: KnownSerdes<K, VR> = {
      keySerde: materialized?.keySerde ?? this.serdes.keySerde,
      valueSerde: materialized?.valueSerde
    }
    const storeName = this.#materialize('mapValues()', serdes, materialized)
    const oldValues = storeName === null ? derived(this.oldValues) : MATERIALIZED
    const supplier = tableMapValuesProcessor(mapper, storeName, () => oldValues.enabled)
    this.dsl.topology.addProcessor(nodeName, supplier, this.nodeName)
    if (storeName !== null) this.dsl.topology.connectProcessorAndStateStores([nodeName, storeName])
    return new KTable(this.dsl, nodeName, serdes, storeName, this.windowInfo, oldValues)
  }

  /**
   * A table of transformed values (Kafka Streams' `transformValues`): `supplier()` makes a transformer per task,
   * called with each key's new value, `null` for a delete; it may use the stores named in `storeNames`.
   */
  transformValues<VR>(
    supplier: ValueTransformerWithKeySupplier<K, V, VR>,
    materialized?: Materialized<K, VR>,
    ...storeNames: string[]
  ): KTable<K, VR> {
    const nodeName = this.dsl.newName('KTABLE-TRANSFORMVALUES')
    const serdes: KnownSerdes<K, VR> = {
      keySerde: materialized?.keySerde ?? this.serdes.keySerde,
      valueSerde: materialized?.valueSerde
    }
    const storeName = this.#materialize('transformValues()', serdes, materialized)
    const oldValues = storeName === null ? derived(this.oldValues) : MATERIALIZED
    const supplierOfProcessor = tableTransformValuesProcessor(supplier, storeName, () => oldValues.enabled)
    this.dsl.topology.addProcessor(nodeName, supplierOfProcessor, this.nodeName)
    const stores = [...(storeName === null ? [] : [storeName]), ...storeNames]
    if (stores.length > 0)
      this.dsl.topology.connectProcessorAndStateStores(...stores.map((s) => [nodeName, s] as const))
    return new KTable(this.dsl, nodeName, serdes, storeName, this.windowInfo, oldValues)
  }

  /** The table's updates as a stream: one record per update, a tombstone (null value) per delete. */
  toStream(name?: string): KStream<K, V> {
    const nodeName = this.dsl.nameOr(name, 'KTABLE-TOSTREAM')
    this.dsl.topology.addProcessor(
      nodeName,
      toStreamProcessor<K, V>() as ProcessorSupplier<K, Change<V>, K, V>,
      this.nodeName
    )
    return new KStream<K, V>(this.dsl, nodeName, this.serdes, false)
  }

  /**
   * Re-groups the table by a new key (through a repartition topic) for `count`, `reduce(adder, subtractor)` or
   * `aggregate(initializer, adder, subtractor)`: each update subtracts the old value from its old group and adds the
   * new value to its new group. Pass the serdes of the new key and value in `grouped` unless unchanged.
   */
  groupBy<KR, VR>(
    selector: (key: K, value: V) => readonly [KR, VR],
    grouped: Grouped<KR, VR> = {}
  ): KGroupedTable<KR, VR> {
    // Subtracting from the old group needs old values: an unnamed table source is materialized for it.
    this.oldValues.enable(true)
    return new KGroupedTable(this.dsl, this.nodeName, selector, grouped)
  }

  /**
   * Joins two tables on their key: the result changes whenever either side does, with the other side's current value
   * (see docs/topology.md, Joins). `join` has a value only while both sides do; `leftJoin` while this one does
   * (other side null when missing); `outerJoin` while either does. A key losing its result gets a tombstone.
   */
  join<VO, VR>(other: KTable<K, VO>, joiner: ValueJoiner<K, V, VO, VR>, name?: string): KTable<K, VR>
  /**
   * Joins on a foreign key (KIP-213): each value of this table names a key of `other` (`foreignKeyOf(value, key)`),
   * and the result, keyed like this table, changes whenever this value or the other table's value for its foreign key
   * does. Works across partitions through two internal topics (see docs/topology.md, Foreign-key joins). A value
   * whose foreign key is null, or names a key `other` lacks, has no result.
   */
  join<KO, VO, VR>(
    other: KTable<KO, VO>,
    foreignKeyOf: ForeignKeyExtractor<K, V, KO>,
    joiner: ValueJoiner<K, V, VO, VR>,
    tableJoined?: TableJoined,
    materialized?: Materialized<K, VR>
  ): KTable<K, VR>
  join<KO, VO, VR>(
    other: KTable<KO, VO>,
    second: ForeignKeyExtractor<K, V, KO> | ValueJoiner<K, V, VO, VR>,
    third?: ValueJoiner<K, V, VO, VR> | string,
    tableJoined: TableJoined = {},
    materialized?: Materialized<K, VR>
  ): KTable<K, VR> {
    if (typeof third === 'function') {
      const foreignKeyOf = second as ForeignKeyExtractor<K, V, KO>
      const joiner = third as ValueJoiner<K, V, VO | null, VR>
      return foreignKeyJoin(this, other, foreignKeyOf, joiner, false, tableJoined, materialized)
    }
    const joiner = second as ValueJoiner<K, V | null, VO | null, VR>
    return tableTableJoin(this, other as unknown as KTable<K, VO>, joiner, 'inner', third)
  }

  leftJoin<VO, VR>(other: KTable<K, VO>, joiner: ValueJoiner<K, V, VO | null, VR>, name?: string): KTable<K, VR>
  /** A foreign-key join that keeps every value of this table: the other value is null when there is none. */
  leftJoin<KO, VO, VR>(
    other: KTable<KO, VO>,
    foreignKeyOf: ForeignKeyExtractor<K, V, KO>,
    joiner: ValueJoiner<K, V, VO | null, VR>,
    tableJoined?: TableJoined,
    materialized?: Materialized<K, VR>
  ): KTable<K, VR>
  leftJoin<KO, VO, VR>(
    other: KTable<KO, VO>,
    second: ForeignKeyExtractor<K, V, KO> | ValueJoiner<K, V, VO | null, VR>,
    third?: ValueJoiner<K, V, VO | null, VR> | string,
    tableJoined: TableJoined = {},
    materialized?: Materialized<K, VR>
  ): KTable<K, VR> {
    if (typeof third === 'function') {
      const foreignKeyOf = second as ForeignKeyExtractor<K, V, KO>
      return foreignKeyJoin(this, other, foreignKeyOf, third, true, tableJoined, materialized)
    }
    const joiner = second as ValueJoiner<K, V | null, VO | null, VR>
    return tableTableJoin(this, other as unknown as KTable<K, VO>, joiner, 'left', third)
  }

  outerJoin<VO, VR>(
    other: KTable<K, VO>,
    joiner: ValueJoiner<K, V | null, VO | null, VR>,
    name?: string
  ): KTable<K, VR> {
    return tableTableJoin(this, other, joiner, 'outer', name)
  }

  /**
   * Emits each window's final result once, when the window closes (`Suppressed.untilWindowCloses()`, only for
   * windowed aggregation results: `windowedBy(...).count()` & co), or each key's latest update once per time limit
   * (`Suppressed.untilTimeLimit(ms)`, any table), instead of every update.
   */
  suppress(suppressed: Suppressed<K, V>): KTable<K, V> {
    const info = this.windowInfo
    if (info === null && suppressed.kind !== 'untilTimeLimit') {
      throw new TopologyError(
        'suppress(Suppressed.untilWindowCloses()) needs a windowed table, the result of windowedBy(...).count(), ' +
          '.reduce() or .aggregate(): other tables have no windows that close'
      )
    }
    const nodeName = this.dsl.nameOr(suppressed.name, 'KTABLE-SUPPRESS')
    const storeName =
      suppressed.name === undefined ? this.dsl.newName('KTABLE-SUPPRESS-STATE-STORE') : `${suppressed.name}-store`
    const where = `suppress(${nodeName})`
    const keySerde = requireSerde(
      suppressed.keySerde,
      this.serdes.keySerde,
      'key',
      where,
      'Suppressed.untilWindowCloses({ keySerde })'
    )
    const valueSerde = requireSerde(
      suppressed.valueSerde,
      this.serdes.valueSerde,
      'value',
      where,
      'Suppressed.untilWindowCloses({ valueSerde })'
    )
    for (const limit of ['maxRecords', 'maxBytes'] as const) {
      const value = suppressed[limit]
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
        throw new TopologyError(`${where}: ${limit} must be a positive integer, got ${String(value)}`)
      }
    }
    const limits = {
      ...(suppressed.maxRecords === undefined ? {} : { maxRecords: suppressed.maxRecords }),
      ...(suppressed.maxBytes === undefined ? {} : { maxBytes: suppressed.maxBytes })
    }
    let processor: ProcessorSupplier<never, never, unknown, unknown>
    if (suppressed.kind === 'untilTimeLimit') {
      const wait = suppressed.timeToWaitMs
      if (!Number.isSafeInteger(wait) || wait! < 0) {
        throw new TopologyError(`${where}: timeToWaitMs must be an integer >= 0, got ${String(wait)}`)
      }
      // As Kafka Streams: the suppressed table sends old values, materializing an unnamed source.
      this.oldValues.enable(true)
      processor = timeLimitSuppressProcessor(storeName, wait!, keySerde, valueSerde, limits, suppressed.whenFull)
    } else {
      processor = suppressProcessor(
        storeName,
        info!.closesAfterEndMs,
        keySerde as unknown as Serde<Windowed<unknown>>,
        valueSerde,
        limits
      ) as never
    }
    this.dsl.topology.addProcessor(nodeName, processor, this.nodeName)
    const buffer = keyValueStoreBuilder({
      name: storeName,
      keySerde: bytesSerde(),
      valueSerde: bytesSerde(),
      ...(suppressed.persistent === undefined ? {} : { persistent: suppressed.persistent })
    })
    addDslStore(this.dsl, buffer, nodeName)
    return new KTable(this.dsl, nodeName, { keySerde, valueSerde }, null, info)
  }

  #filter(
    predicate: (key: K, value: V) => boolean,
    keep: boolean,
    materialized: Materialized<K, V> | undefined
  ): KTable<K, V> {
    const nodeName = this.dsl.newName('KTABLE-FILTER')
    const serdes: KnownSerdes<K, V> = {
      keySerde: materialized?.keySerde ?? this.serdes.keySerde,
      valueSerde: materialized?.valueSerde ?? this.serdes.valueSerde
    }
    const storeName = this.#materialize(keep ? 'filter()' : 'filterNot()', serdes, materialized)
    const oldValues = storeName === null ? derived(this.oldValues) : MATERIALIZED
    const supplier = tableFilterProcessor(predicate, keep, storeName, () => oldValues.enabled)
    this.dsl.topology.addProcessor(nodeName, supplier, this.nodeName)
    if (storeName !== null) this.dsl.topology.connectProcessorAndStateStores([nodeName, storeName])
    return new KTable(this.dsl, nodeName, serdes, storeName, this.windowInfo, oldValues)
  }

  /** Declares the store of a derived table when one was asked for; returns its name (or null: not materialized). */
  #materialize<VR>(
    where: string,
    serdes: KnownSerdes<K, VR>,
    materialized: Materialized<K, VR> | undefined
  ): string | null {
    if (materialized === undefined) return null
    if (this.windowInfo !== null) throw new TopologyError(`${where}: a windowed table cannot be materialized again`)
    const name = storeNameFor(this.dsl, materialized as Materialized<unknown, unknown>, 'KTABLE-STATE-STORE')
    const keySerde = requireSerde(materialized.keySerde, serdes.keySerde, 'key', where, 'Materialized')
    const valueSerde = requireSerde(materialized.valueSerde, serdes.valueSerde, 'value', where, 'Materialized')
    const builder = tableStoreBuilder(name, keySerde, valueSerde, materialized as Materialized<unknown, unknown>)
    // Added with no processor yet: the caller adds its node, then connects it.
    addDslStore(this.dsl, builder)
    return name
  }
}
