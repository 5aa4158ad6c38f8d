import { addDslStore, requireSerde, storeNameFor, tableStoreBuilder } from './dsl-stores.ts'
import type { KStream } from './kstream.ts'
import { KTable } from './ktable.ts'
import type { Materialized } from './materialized.ts'
import { MATERIALIZED, unnamedSource } from './old-values.ts'
import { tableSourceProcessor } from './table-processors.ts'

/**
 * `KStream.toTable()`: the stream read as a changelog, as `builder.table()` reads a topic (latest value per key, a
 * null value deletes, records without a key are dropped and counted). The table lives in a store
 * (`materialized.storeName`, default `KSTREAM-TOTABLE-STATE-STORE-<n>`) with its own changelog. Unnamed, the table
 * forwards every record as it comes until something downstream needs old values, as an unnamed `builder.table()`
 * does. A stream whose key changed is repartitioned first.
 */
export function streamToTable<K, V>(stream: KStream<K, V>, materialized: Materialized<K, V>): KTable<K, V> {
  const dsl = stream.dsl
  const where = 'toTable()'
  const keySerde = requireSerde(materialized.keySerde, stream.serdes.keySerde, 'key', where, 'Materialized')
  const valueSerde = requireSerde(materialized.valueSerde, stream.serdes.valueSerde, 'value', where, 'Materialized')
  const processorName = dsl.newName('KSTREAM-TOTABLE')
  const storeName = storeNameFor(dsl, materialized as Materialized<unknown, unknown>, 'KSTREAM-TOTABLE-STATE-STORE')
  const input = stream.repartitionRequired
    ? stream.repartition({ name: `${processorName}`, keySerde, valueSerde })
    : stream
  const oldValues = materialized.storeName === undefined ? unnamedSource() : MATERIALIZED
  dsl.topology.addProcessor(
    processorName,
    tableSourceProcessor<K, V>(storeName, () => oldValues.enabled),
    input.nodeName
  )
  const builder = tableStoreBuilder(storeName, keySerde, valueSerde, materialized as Materialized<unknown, unknown>)
  addDslStore(dsl, builder, processorName)
  return new KTable<K, V>(dsl, processorName, { keySerde, valueSerde }, storeName, null, oldValues)
}
