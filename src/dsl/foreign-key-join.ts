import { keyValueStoreBuilder } from '../state/index.ts'
import { TopologyError } from '../topology/index.ts'
import type { DslContext } from './dsl-context.ts'
import { addDslStore, requireSerde, storeNameFor, tableStoreBuilder } from './dsl-stores.ts'
import {
  foreignTableJoinProcessor,
  responseResolveProcessor,
  subscriptionJoinProcessor,
  subscriptionReceiveProcessor,
  subscriptionSendProcessor,
  unmaterializedResultProcessor
} from './foreign-key-join-processors.ts'
import {
  combinedKeySerde,
  foreignKeyPrefixSerde,
  subscriptionResponseSerde,
  subscriptionSerde
} from './foreign-key-join-serdes.ts'
import type { ValueJoiner } from './joined.ts'
import { KTable } from './ktable.ts'
import type { Materialized } from './materialized.ts'
import { MATERIALIZED, type OldValues } from './old-values.ts'
import { tableSourceProcessor } from './table-processors.ts'

/** Options of a foreign-key join (Kafka Streams' `TableJoined`). */
export interface TableJoined {
  /**
   * Names the join's nodes, store and topics: `<name>-subscription-registration-topic`,
   * `<name>-subscription-response-topic`, `<name>-subscription-store`. Default: generated names
   * (`KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-<n>-topic`), which change when operations are added upstream.
   */
  readonly name?: string
}

/** Extracts the right table's key from a left value (`null`: no foreign key). */
export type ForeignKeyExtractor<K, V, KO> = (value: V, key: K) => KO | null

/**
 * Adds a foreign-key table join (KIP-213), in Kafka Streams' layout:
 *
 * - left sub-topology: each left change sends subscriptions (keyed by foreign key) to
 *   `<app.id>-...-subscription-registration-topic`, partitioned as the right table;
 * - right sub-topology: subscriptions are kept in the subscription store (foreign key + left key) and answered with
 *   the right value; a right change answers every subscriber of its key. Answers go to
 *   `<app.id>-...-subscription-response-topic`, back to the left partition they came from;
 * - left sub-topology again: an answer is joined with the left table's current value, unless that value changed since
 *   the subscription (hash mismatch), and the result becomes the new value of the left key.
 *
 * Both tables must be materialized. The result is a table keyed like the left one; materialized when `materialized`
 * is given, else its changes carry no old values.
 */
export function foreignKeyJoin<K, V, KO, VO, VR>(
  left: KTable<K, V>,
  right: KTable<KO, VO>,
  foreignKeyOf: ForeignKeyExtractor<K, V, KO>,
  joiner: ValueJoiner<K, V, VO | null, VR>,
  leftJoin: boolean,
  tableJoined: TableJoined,
  materialized: Materialized<K, VR> | undefined
): KTable<K, VR> {
  const dsl = left.dsl
  const where = leftJoin ? 'leftJoin() on a foreign key' : 'join() on a foreign key'
  if (right.dsl !== dsl) throw new TopologyError(`${where}: both tables need the same StreamsBuilder`)
  const leftStore = left.queryableStoreName
  const rightStore = right.queryableStoreName
  for (const table of [left, right]) {
    if (table.queryableStoreName === null || table.windowInfo !== null) {
      throw new TopologyError(
        `${where}: both tables must be materialized (a builder.table(), an aggregation, or a filter / mapValues ` +
          'given Materialized.as(storeName)); windowed tables cannot be joined'
      )
    }
    // The left side needs old values to unsubscribe a changed foreign key; both read through their store.
    table.oldValues.enable(true)
  }
  const option = 'Materialized of the joined table'
  const keySerde = requireSerde(undefined, left.serdes.keySerde, 'key', where, option)
  const valueSerde = requireSerde(undefined, left.serdes.valueSerde, 'value', where, option)
  const foreignKeySerde = requireSerde(undefined, right.serdes.keySerde, 'key', where, option)
  const foreignValueSerde = requireSerde(undefined, right.serdes.valueSerde, 'value', where, option)

  const named = (suffix: string, prefix: string) =>
    tableJoined.name === undefined ? dsl.newName(prefix) : `${dsl.nameOr(tableJoined.name, prefix)}-${suffix}`
  const topology = dsl.topology
  const subscriptionTopic = topology.addInternalTopic(
    `${named('subscription-registration', 'KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION')}-topic`
  )
  const serdeTopic = subscriptionTopic
  const sendName = named('subscription-registration-processor', 'KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION')
  topology.addProcessor(
    sendName,
    subscriptionSendProcessor(foreignKeyOf, foreignKeySerde, valueSerde, serdeTopic, leftJoin),
    left.nodeName
  )
  const subscriptions = subscriptionSerde(keySerde)
  const subscriptionSink = named('subscription-registration-sink', 'KTABLE-SINK')
  topology.addSink(
    subscriptionSink,
    subscriptionTopic,
    { keySerde: foreignKeySerde, valueSerde: subscriptions },
    sendName
  )
  const subscriptionSource = named('subscription-registration-source', 'KTABLE-SOURCE')
  topology.addSource(subscriptionSource, subscriptionTopic, { keySerde: foreignKeySerde, valueSerde: subscriptions })

  const storeName = named('subscription-store', 'KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE')
  const receiveName = named('subscription-receive', 'KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR')
  topology.addProcessor(receiveName, subscriptionReceiveProcessor(storeName), subscriptionSource)
  addDslStore(
    dsl,
    keyValueStoreBuilder({
      name: storeName,
      keySerde: combinedKeySerde(foreignKeySerde, keySerde),
      valueSerde: subscriptions
    }),
    receiveName
  )
  const joinName = named('subscription-join-foreign', 'KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR')
  topology.addProcessor(joinName, subscriptionJoinProcessor(rightStore!), receiveName)
  const foreignName = named('foreign-join-subscription', 'KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR')
  topology.addProcessor(
    foreignName,
    foreignTableJoinProcessor(storeName, foreignKeyPrefixSerde(foreignKeySerde)),
    right.nodeName
  )
  topology.connectProcessorAndStateStores([joinName, rightStore!], [foreignName, storeName])

  const responseTopic = topology.addInternalTopic(
    `${named('subscription-response', 'KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE')}-topic`
  )
  const responses = subscriptionResponseSerde(foreignValueSerde)
  const responseSink = named('subscription-response-sink', 'KTABLE-SINK')
  topology.addSink(
    responseSink,
    responseTopic,
    {
      keySerde,
      valueSerde: responses,
      // Back to the left partition the subscription came from.
      partitioner: (_topic, _key, response) => response.primaryPartition
    },
    joinName,
    foreignName
  )
  const responseSource = named('subscription-response-source', 'KTABLE-SOURCE')
  topology.addSource(responseSource, responseTopic, { keySerde, valueSerde: responses })
  const resolveName = named('subscription-response-resolver', 'KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR')
  topology.addProcessor(
    resolveName,
    responseResolveProcessor(leftStore!, valueSerde, serdeTopic, joiner, leftJoin),
    responseSource
  )
  topology.connectProcessorAndStateStores([resolveName, leftStore!])
  return resultTable(dsl, named('result', 'KTABLE-FK-JOIN-OUTPUT'), resolveName, keySerde, materialized)
}

/** The join's result node: a table source over the resolved results, materialized when asked for. */
function resultTable<K, VR>(
  dsl: DslContext,
  name: string,
  parent: string,
  keySerde: NonNullable<KTable<K, VR>['serdes']['keySerde']>,
  materialized: Materialized<K, VR> | undefined
): KTable<K, VR> {
  if (materialized === undefined) {
    dsl.topology.addProcessor(name, unmaterializedResultProcessor<K, VR>(), parent)
    const noOldValues: OldValues = {
      enabled: false,
      enable(force) {
        if (!force) return false
        throw new TopologyError(
          `the result of foreign-key join ${name} has no old values for this operation: pass Materialized to the join`
        )
      }
    }
    return new KTable<K, VR>(dsl, name, { keySerde }, null, null, noOldValues)
  }
  const storeName = storeNameFor(
    dsl,
    materialized as Materialized<unknown, unknown>,
    'KTABLE-FK-JOIN-OUTPUT-STATE-STORE'
  )
  const valueSerde = requireSerde(
    materialized.valueSerde,
    undefined,
    'value',
    `foreign-key join ${name}`,
    'Materialized'
  )
  const storeKeySerde = materialized.keySerde ?? keySerde
  dsl.topology.addProcessor(name, tableSourceProcessor<K, VR>(storeName), parent)
  addDslStore(
    dsl,
    tableStoreBuilder(storeName, storeKeySerde, valueSerde, materialized as Materialized<unknown, unknown>),
    name
  )
  return new KTable<K, VR>(dsl, name, { keySerde: storeKeySerde, valueSerde }, storeName, null, MATERIALIZED)
}
