import type { Serde } from '../serde/index.ts'
import { longSerde } from '../serde/index.ts'
import { TopologyError } from '../topology/index.ts'
import { tableAggregateProcessor } from './aggregate-processors.ts'
import {
  type Aggregator,
  countAdder,
  countInitializer,
  countSubtractor,
  type Initializer,
  type Reducer,
  reduceAggregator,
  reduceInitializer
} from './aggregators.ts'
import { changeSerde } from './change.ts'
import type { DslContext } from './dsl-context.ts'
import type { Grouped } from './dsl-options.ts'
import { addDslStore, requireSerde, storeNameFor, tableStoreBuilder } from './dsl-stores.ts'
import { KTable } from './ktable.ts'
import type { Materialized } from './materialized.ts'
import { tableRepartitionMapProcessor } from './table-processors.ts'

/**
 * A table re-grouped by `KTable.groupBy(selector)`, ready for an aggregation. Every update of the source table
 * reaches the aggregation as a subtraction from the group the old value belonged to and an addition to the group of
 * the new value, through `<app.id>-<name>-repartition` (name: `Grouped.name`, else the aggregation's store name).
 */
export class KGroupedTable<K, V> {
  readonly #dsl: DslContext
  readonly #tableNode: string
  readonly #selector: (key: unknown, value: unknown) => readonly [K, V]
  readonly #grouped: Grouped<K, V>

  /** @internal Made by `KTable.groupBy()`. */
  constructor(
    dsl: DslContext,
    tableNode: string,
    selector: (key: never, value: never) => readonly [K, V],
    grouped: Grouped<K, V>
  ) {
    this.#dsl = dsl
    this.#tableNode = tableNode
    this.#selector = selector as (key: unknown, value: unknown) => readonly [K, V]
    this.#grouped = grouped
  }

  /** The number of source rows in each group (`bigint`, `Serdes.long()`); a group emptied stays at 0. */
  count(materialized: Materialized<K, bigint> = {}): KTable<K, bigint> {
    return this.#aggregate(
      'count',
      'KTABLE-AGGREGATE',
      materialized,
      longSerde(),
      countInitializer,
      countAdder(),
      countSubtractor()
    )
  }

  /** Combines the values of a group with `adder`, and takes a value back out with `subtractor`. */
  reduce(adder: Reducer<V>, subtractor: Reducer<V>, materialized: Materialized<K, V> = {}): KTable<K, V> {
    return this.#aggregate(
      'reduce',
      'KTABLE-REDUCE',
      materialized,
      this.#grouped.valueSerde,
      reduceInitializer<V>(),
      reduceAggregator<K, V>(adder),
      (_key, value, aggregate) => subtractor(aggregate, value)
    )
  }

  aggregate<VA>(
    initializer: Initializer<VA>,
    adder: Aggregator<K, V, VA>,
    subtractor: Aggregator<K, V, VA>,
    materialized: Materialized<K, VA> = {}
  ): KTable<K, VA> {
    return this.#aggregate(
      'aggregate',
      'KTABLE-AGGREGATE',
      materialized,
      undefined,
      initializer,
      adder as never,
      subtractor
    )
  }

  #aggregate<VA>(
    operation: string,
    prefix: string,
    materialized: Materialized<K, VA>,
    defaultValueSerde: Serde<VA> | undefined,
    initializer: Initializer<VA | null>,
    adder: Aggregator<K, V, VA | null>,
    subtractor: Aggregator<K, V, VA>
  ): KTable<K, VA> {
    const dsl = this.#dsl
    const where = `KTable.groupBy().${operation}()`
    const storeName = storeNameFor(dsl, materialized as Materialized<unknown, unknown>, 'KTABLE-AGGREGATE-STATE-STORE')
    const keySerde = requireSerde(
      this.#grouped.keySerde,
      materialized.keySerde,
      'key',
      where,
      'Grouped (groupBy(selector, { keySerde }))'
    )
    const valueSerde = requireSerde(
      this.#grouped.valueSerde,
      undefined,
      'value',
      where,
      'Grouped (groupBy(selector, { valueSerde }))'
    )
    const aggregateSerde = requireSerde(
      materialized.valueSerde,
      defaultValueSerde,
      'value',
      `${where} of store ${storeName}`,
      'Materialized'
    )
    const base = groupedName(this.#grouped.name) ?? storeName
    const selectName = dsl.newName('KTABLE-SELECT')
    const topic = dsl.topology.addRepartitionTopic(base)
    const sameKey = (a: K, b: K): boolean => {
      if (a === b) return true
      if (typeof a !== 'object' || typeof b !== 'object') return false
      const bytesA = keySerde.serialize(topic, a)
      const bytesB = keySerde.serialize(topic, b)
      return bytesA !== null && bytesB !== null && bytesA.equals(bytesB)
    }
    dsl.topology.addProcessor(selectName, tableRepartitionMapProcessor(this.#selector, sameKey), this.#tableNode)
    const changes = changeSerde(valueSerde)
    dsl.topology.addSink(`${base}-repartition-sink`, topic, { keySerde, valueSerde: changes }, selectName)
    dsl.topology.addSource(`${base}-repartition-source`, topic, { keySerde, valueSerde: changes })
    const nodeName = dsl.newName(prefix)
    dsl.topology.addProcessor(
      nodeName,
      tableAggregateProcessor(storeName, initializer, adder, subtractor),
      `${base}-repartition-source`
    )
    const store = tableStoreBuilder(storeName, keySerde, aggregateSerde, materialized as Materialized<unknown, unknown>)
    addDslStore(dsl, store, nodeName)
    return new KTable<K, VA>(dsl, nodeName, { keySerde, valueSerde: aggregateSerde }, storeName)
  }
}

/** A `Grouped.name` checked: it names a topic, so it must be a non-empty string. */
export function groupedName(name: string | undefined): string | undefined {
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    throw new TopologyError('Grouped.name must be a non-empty string (it names the repartition topic)')
  }
  return name
}
