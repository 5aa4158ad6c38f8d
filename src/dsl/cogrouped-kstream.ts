import type { Serde } from '../serde/index.ts'
import { TopologyError } from '../topology/index.ts'
import { streamAggregateProcessor } from './aggregate-processors.ts'
import type { Aggregator, Initializer } from './aggregators.ts'
import { addDslStore, requireSerde, storeNameFor, tableStoreBuilder } from './dsl-stores.ts'
import type { KGroupedStream } from './kgrouped-stream.ts'
import { KTable } from './ktable.ts'
import type { Materialized } from './materialized.ts'
import { passThrough } from './stateless-processors.ts'

/**
 * Several grouped streams aggregated into one table (Kafka Streams' `CogroupedKStream`): each input has its own
 * aggregator, all update the same aggregate per key in one store, and the updates of all inputs come out as one
 * table. Each input whose key changed is repartitioned first (through `<store>-<i>-repartition` after the first);
 * the inputs must be co-partitioned, as they share one task.
 */
export class CogroupedKStream<K, VA> {
  readonly #inputs: ReadonlyArray<readonly [KGroupedStream<K, unknown>, Aggregator<K, unknown, VA>]>

  /** @internal Made by `KGroupedStream.cogroup()`. */
  constructor(inputs: ReadonlyArray<readonly [KGroupedStream<K, unknown>, Aggregator<K, unknown, VA>]>) {
    this.#inputs = inputs
  }

  /** Adds another grouped stream with its aggregator. */
  cogroup<V>(grouped: KGroupedStream<K, V>, aggregator: Aggregator<K, V, VA>): CogroupedKStream<K, VA> {
    if (this.#inputs.some(([g]) => (g as unknown) === grouped)) {
      throw new TopologyError('cogroup(): a grouped stream can be added only once')
    }
    return new CogroupedKStream<K, VA>([
      ...this.#inputs,
      [grouped as KGroupedStream<K, unknown>, aggregator as Aggregator<K, unknown, VA>]
    ])
  }

  /** The aggregate per key over all inputs; pass its serde in `materialized.valueSerde`. */
  aggregate(initializer: Initializer<VA>, materialized: Materialized<K, VA> = {}): KTable<K, VA> {
    const first = this.#inputs[0]![0]
    const dsl = first.dsl
    if (this.#inputs.some(([g]) => g.dsl !== dsl))
      throw new TopologyError('cogroup(): all inputs need the same StreamsBuilder')
    const storeName = storeNameFor(
      dsl,
      materialized as Materialized<unknown, unknown>,
      'COGROUPKSTREAM-AGGREGATE-STATE-STORE'
    )
    const where = `cogroup().aggregate() of store ${storeName}`
    const keySerde = requireSerde(
      materialized.keySerde,
      this.#inputs.map(([g]) => g.knownKeySerde).find((s) => s !== undefined) as Serde<K> | undefined,
      'key',
      where,
      'Materialized'
    )
    const valueSerde = requireSerde(materialized.valueSerde, undefined, 'value', where, 'Materialized')
    const aggregators = this.#inputs.map(([grouped, aggregator], i) => {
      const input = grouped.inputNode(i === 0 ? storeName : `${storeName}-${i}`, keySerde, where)
      const nodeName = dsl.newName('COGROUPKSTREAM-AGGREGATE')
      dsl.topology.addProcessor(
        nodeName,
        streamAggregateProcessor(storeName, initializer, aggregator as Aggregator<K, unknown, VA | null>),
        input
      )
      return nodeName
    })
    addDslStore(
      dsl,
      tableStoreBuilder(storeName, keySerde, valueSerde, materialized as Materialized<unknown, unknown>),
      ...aggregators
    )
    const merge = dsl.newName('COGROUPKSTREAM-MERGE')
    dsl.topology.addProcessor(merge, passThrough(), ...aggregators)
    return new KTable<K, VA>(dsl, merge, { keySerde, valueSerde }, storeName)
  }
}
