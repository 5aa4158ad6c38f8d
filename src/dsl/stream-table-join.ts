import { TopologyError } from '../topology/index.ts'
import type { GlobalKTable } from './global-ktable.ts'
import type { Joined, ValueJoiner } from './joined.ts'
import { KStream } from './kstream.ts'
import type { KTable } from './ktable.ts'
import { streamTableJoinProcessor } from './stream-table-join-processor.ts'

/**
 * Adds a stream-table join: the join node reads the table's store, so it lands in the table's sub-topology and the
 * stream's and table's topics are checked for co-partitioning at start (equal partition counts, or a
 * `STREAMLANE_COPARTITIONING_FAILED` error naming each topic and its count). A stream whose key changed since it was
 * last partitioned goes through `<app.id>-<name>-repartition` first, as in Kafka Streams; that topic takes the
 * table topic's partition count.
 */
export function streamTableJoin<K, V, VT, VR>(
  stream: KStream<K, V>,
  table: KTable<K, VT>,
  joiner: ValueJoiner<K, V, VT | null, VR>,
  leftJoin: boolean,
  joined: Joined<K, V>
): KStream<K, VR> {
  if (table.dsl !== stream.dsl) throw new TopologyError('join(): the stream and the table need the same StreamsBuilder')
  const operation = leftJoin ? 'leftJoin()' : 'join()'
  const storeName = table.queryableStoreName
  if (storeName === null || table.windowInfo !== null) {
    throw new TopologyError(
      `${operation}: the table must be materialized to be joined (a builder.table(), an aggregation, or a filter / ` +
        'mapValues given Materialized.as(storeName)); windowed tables cannot be joined to a stream'
    )
  }
  const name = stream.dsl.nameOr(joined.name, leftJoin ? 'KSTREAM-LEFTJOIN' : 'KSTREAM-JOIN')
  const input = stream.repartitionRequired
    ? stream.repartition({
        name: `${name}`,
        // The key has the table's key type: its serde serves when the stream no longer knows its own.
        ...((joined.keySerde ?? table.serdes.keySerde) === undefined
          ? {}
          : { keySerde: joined.keySerde ?? table.serdes.keySerde }),
        ...(joined.valueSerde === undefined ? {} : { valueSerde: joined.valueSerde })
      })
    : stream
  const topology = stream.dsl.topology
  topology.addProcessor(name, streamTableJoinProcessor(storeName, joiner, leftJoin), input.nodeName)
  topology.connectProcessorAndStateStores([name, storeName])
  return new KStream<K, VR>(stream.dsl, name, { keySerde: input.serdes.keySerde }, false)
}

/**
 * Adds a stream-GlobalKTable join: each stream record looks up the global table at `tableKeyOf(key, value)`. The
 * global store is in every instance whole, so nothing is repartitioned or co-partitioned; the result keeps the
 * stream's key (and whether it must be repartitioned before a grouping).
 */
export function streamGlobalTableJoin<K, V, KT, VT, VR>(
  stream: KStream<K, V>,
  table: GlobalKTable<KT, VT>,
  tableKeyOf: (key: K, value: V) => KT | null,
  joiner: ValueJoiner<K, V, VT | null, VR>,
  leftJoin: boolean,
  name: string | undefined
): KStream<K, VR> {
  if (table.dsl !== stream.dsl) throw new TopologyError('join(): the stream and the table need the same StreamsBuilder')
  const nodeName = stream.dsl.nameOr(name, leftJoin ? 'KSTREAM-LEFTJOIN' : 'KSTREAM-JOIN')
  stream.dsl.topology.addProcessor(
    nodeName,
    streamTableJoinProcessor(table.queryableStoreName, joiner, leftJoin, tableKeyOf),
    stream.nodeName
  )
  return new KStream<K, VR>(stream.dsl, nodeName, { keySerde: stream.serdes.keySerde }, stream.repartitionRequired)
}
