import type { Serde } from '../serde/index.ts'
import type { ProcessorSupplier, TopicNameExtractor } from '../topology/index.ts'
import { TopologyError } from '../topology/index.ts'
import { BranchedKStream } from './branched-kstream.ts'
import type { DslContext } from './dsl-context.ts'
import type { Grouped, Produced, Repartitioned } from './dsl-options.ts'
import { fixedKeyProcessor } from './fixed-key-processor.ts'
import { GlobalKTable } from './global-ktable.ts'
import { nullKeyFilter } from './grouping-processors.ts'
import type { JoinWindows } from './join-windows.ts'
import type { Joined, StreamJoined, ValueJoiner } from './joined.ts'
import { KGroupedStream } from './kgrouped-stream.ts'
import type { KTable } from './ktable.ts'
import type { Materialized } from './materialized.ts'
import {
  actionProcessor,
  filterProcessor,
  flatMapProcessor,
  flatMapValuesProcessor,
  mapProcessor,
  mapValuesProcessor,
  passThrough,
  selectKeyProcessor
} from './stateless-processors.ts'
import { streamStreamJoin } from './stream-stream-join.ts'
import { streamGlobalTableJoin, streamTableJoin } from './stream-table-join.ts'
import { streamToTable } from './stream-to-table.ts'

/** Serdes a stream still knows: set by `stream()`, `repartition()` or kept by operations that do not change types. */
export interface KnownSerdes<K, V> {
  readonly keySerde?: Serde<K> | undefined
  readonly valueSerde?: Serde<V> | undefined
}

/** Options of `process()` beyond store names. */
export interface ProcessOptions {
  readonly name?: string
  readonly stores?: readonly string[]
}

/**
 * An unbounded stream of records with keys of type K and values of type V. Every operation adds a node to the
 * topology and returns the stream of its output; names are generated (`KSTREAM-MAP-0000000001`) unless given.
 *
 * Functions that may change the key or decide on the record get `(key, value)`, as in Kafka Streams; value mappers get
 * `(value, key)` so the common one-argument form reads naturally.
 */
export class KStream<K, V> {
  /** @internal The builder state shared by all streams of one builder. */
  readonly dsl: DslContext
  /** @internal The node whose output this stream is. */
  readonly nodeName: string
  /** @internal */
  readonly serdes: KnownSerdes<K, V>
  /**
   * @internal Whether the key changed since the records were last partitioned by it: a later grouping or join must
   * repartition first.
   */
  readonly repartitionRequired: boolean

  constructor(dsl: DslContext, nodeName: string, serdes: KnownSerdes<K, V>, repartitionRequired: boolean) {
    this.dsl = dsl
    this.nodeName = nodeName
    this.serdes = serdes
    this.repartitionRequired = repartitionRequired
  }

  filter<VF extends V>(predicate: (key: K, value: V) => value is VF, name?: string): KStream<K, VF>
  filter(predicate: (key: K, value: V) => boolean, name?: string): KStream<K, V>
  filter(predicate: (key: K, value: V) => boolean, name?: string): KStream<K, V> {
    return this.#add('KSTREAM-FILTER', name, filterProcessor(predicate, true), this.serdes, this.repartitionRequired)
  }

  filterNot(predicate: (key: K, value: V) => boolean, name?: string): KStream<K, V> {
    return this.#add('KSTREAM-FILTER', name, filterProcessor(predicate, false), this.serdes, this.repartitionRequired)
  }

  map<KR, VR>(mapper: (key: K, value: V) => readonly [KR, VR], name?: string): KStream<KR, VR> {
    return this.#add('KSTREAM-MAP', name, mapProcessor(mapper), {}, true)
  }

  mapValues<VR>(mapper: (value: V, key: K) => VR, name?: string): KStream<K, VR> {
    return this.#add(
      'KSTREAM-MAPVALUES',
      name,
      mapValuesProcessor(mapper),
      { keySerde: this.serdes.keySerde },
      this.repartitionRequired
    )
  }

  flatMap<KR, VR>(mapper: (key: K, value: V) => Iterable<readonly [KR, VR]>, name?: string): KStream<KR, VR> {
    return this.#add('KSTREAM-FLATMAP', name, flatMapProcessor(mapper), {}, true)
  }

  flatMapValues<VR>(mapper: (value: V, key: K) => Iterable<VR>, name?: string): KStream<K, VR> {
    return this.#add(
      'KSTREAM-FLATMAPVALUES',
      name,
      flatMapValuesProcessor(mapper),
      { keySerde: this.serdes.keySerde },
      this.repartitionRequired
    )
  }

  selectKey<KR>(selector: (key: K, value: V) => KR, name?: string): KStream<KR, V> {
    return this.#add(
      'KSTREAM-KEY-SELECT',
      name,
      selectKeyProcessor(selector),
      { valueSerde: this.serdes.valueSerde },
      true
    )
  }

  /** Calls `action` for each record and passes the record on. */
  peek(action: (key: K, value: V) => void, name?: string): KStream<K, V> {
    return this.#add('KSTREAM-PEEK', name, actionProcessor(action, true), this.serdes, this.repartitionRequired)
  }

  /** Calls `action` for each record; the end of this branch of the topology. */
  foreach(action: (key: K, value: V) => void, name?: string): void {
    this.#add('KSTREAM-FOREACH', name, actionProcessor(action, false), {}, false)
  }

  /**
   * Prints each record as `[label]: key, value` (Kafka Streams' `print(Printed.toSysOut())`), to stdout unless
   * `write` is given; `mapper` replaces `key, value`. The label defaults to the node's name (`KSTREAM-PRINTER-<n>`).
   */
  print(
    options: {
      label?: string
      mapper?: (key: K, value: V) => string
      write?: (line: string) => void
      name?: string
    } = {}
  ): void {
    const nodeName = this.dsl.nameOr(options.name, 'KSTREAM-PRINTER')
    const label = options.label ?? nodeName
    const mapper = options.mapper ?? ((key: K, value: V) => `${String(key)}, ${String(value)}`)
    const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`))
    this.dsl.topology.addProcessor(
      nodeName,
      actionProcessor<K, V>((key, value) => write(`[${label}]: ${mapper(key, value)}`), false),
      this.nodeName
    )
  }

  /** Both streams' records in one stream (no ordering between the two beyond each task's timestamp order). */
  merge(other: KStream<K, V>, name?: string): KStream<K, V> {
    if (other.dsl !== this.dsl) throw new TopologyError('merge() needs two streams of the same StreamsBuilder')
    const nodeName = this.dsl.nameOr(name, 'KSTREAM-MERGE')
    this.dsl.topology.addProcessor(nodeName, passThrough<K, V>(), this.nodeName, other.nodeName)
    const serdes = {
      keySerde: this.serdes.keySerde === other.serdes.keySerde ? this.serdes.keySerde : undefined,
      valueSerde: this.serdes.valueSerde === other.serdes.valueSerde ? this.serdes.valueSerde : undefined
    }
    return new KStream(this.dsl, nodeName, serdes, this.repartitionRequired || other.repartitionRequired)
  }

  /**
   * Routes each record to the first branch whose predicate holds:
   * `stream.split().branch(isLarge, 'large').defaultBranch()` gives `{ large, default }`.
   * With `{ name: 'orders-' }` the keys (and branch node names) are prefixed: `orders-large`.
   */
  split<Prefix extends string = ''>(options: { name?: Prefix } = {}): BranchedKStream<K, V, Prefix> {
    return new BranchedKStream(this, options.name)
  }

  /** Writes the stream to a topic, or to the topic `topic(key, value, context)` returns per record. */
  to(topic: string | TopicNameExtractor<K, V>, produced: Produced<K, V> = {}): void {
    const name = this.dsl.nameOr(produced.name, 'KSTREAM-SINK')
    const target = typeof topic === 'string' ? `topic ${topic}` : 'a topic chosen per record'
    this.dsl.topology.addSink<K, V>(
      name,
      topic,
      {
        keySerde: this.#serdeFor('key', produced.keySerde, `to(): writing ${target}`),
        valueSerde: this.#serdeFor('value', produced.valueSerde, `to(): writing ${target}`),
        partitioner: produced.partitioner
      },
      this.nodeName
    )
  }

  /**
   * Sends the records through `<app.id>-<name>-repartition` so that every record with the same key lands in the same
   * partition (and task) downstream. Splits the topology into two sub-topologies. Records without a key are dropped
   * before the topic (counted in `dropped['null-key']`), as Kafka Streams drops them.
   */
  repartition(options: Repartitioned<K, V> = {}): KStream<K, V> {
    const base = this.dsl.nameOr(options.name, 'KSTREAM-REPARTITION')
    const keySerde = this.#serdeFor('key', options.keySerde, `repartition(${base})`)
    const valueSerde = this.#serdeFor('value', options.valueSerde, `repartition(${base})`)
    const partitions = options.partitions === undefined ? {} : { partitions: options.partitions }
    const topic = this.dsl.topology.addRepartitionTopic(base, partitions)
    this.dsl.topology.addProcessor(
      `${base}-repartition-filter`,
      nullKeyFilter<K, V>(`repartition topic ${topic}`),
      this.nodeName
    )
    this.dsl.topology.addSink<K, V>(
      `${base}-repartition-sink`,
      topic,
      { keySerde, valueSerde, partitioner: options.partitioner },
      `${base}-repartition-filter`
    )
    this.dsl.topology.addSource<K, V>(`${base}-repartition-source`, topic, { keySerde, valueSerde })
    return new KStream(this.dsl, `${base}-repartition-source`, { keySerde, valueSerde }, false)
  }

  /**
   * Groups the records by their key for an aggregation (`count`, `reduce`, `aggregate`, `windowedBy`). When an
   * operation since the last repartitioning may have changed the key (`map`, `selectKey`, ...), the aggregation reads
   * the records through a repartition topic first; `grouped` names it and gives its serdes.
   */
  groupByKey(grouped: Grouped<K, V> = {}): KGroupedStream<K, V> {
    return new KGroupedStream(this, grouped)
  }

  /** Groups the records by a new key, `selector(key, value)`: always through a repartition topic. */
  groupBy<KR>(selector: (key: K, value: V) => KR, grouped: Grouped<KR, V> = {}): KGroupedStream<KR, V> {
    return new KGroupedStream(this.selectKey(selector), grouped)
  }

  /**
   * This stream read as a table (a changelog): the latest value per key, a null value deletes the key, records
   * without a key are dropped. A stream whose key changed is repartitioned first.
   */
  toTable(materialized: Materialized<K, V> = {}): KTable<K, V> {
    return streamToTable(this, materialized)
  }

  /**
   * Joins each record with the table's current value for its key (`joiner(value, tableValue, key)`; no output when
   * the table has none), or with the other stream's records of the same key within `windows` (see docs/topology.md,
   * Joins). Both sides must be co-partitioned; a stream whose key changed is repartitioned first.
   */
  join<VO, VR>(table: KTable<K, VO>, joiner: ValueJoiner<K, V, VO, VR>, joined?: Joined<K, V>): KStream<K, VR>
  join<VO, VR>(
    other: KStream<K, VO>,
    joiner: ValueJoiner<K, V, VO, VR>,
    windows: JoinWindows,
    streamJoined?: StreamJoined<K, V, VO>
  ): KStream<K, VR>
  /**
   * Joins each record with a GlobalKTable's value at `tableKeyOf(key, value)` (Kafka Streams' `KeyValueMapper`): no
   * output when there is none, or when the mapper returns null. No repartitioning, no co-partitioning.
   */
  join<KT, VT, VR>(
    table: GlobalKTable<KT, VT>,
    tableKeyOf: (key: K, value: V) => KT | null,
    joiner: ValueJoiner<K, V, VT, VR>,
    name?: string
  ): KStream<K, VR>
  join<VO, VR>(
    other: KTable<K, VO> | KStream<K, VO> | GlobalKTable<unknown, VO>,
    second: ValueJoiner<K, V, VO, VR> | ((key: K, value: V) => unknown),
    options?: Joined<K, V> | JoinWindows | ValueJoiner<K, V, VO, VR>,
    last?: StreamJoined<K, V, VO> | string
  ): KStream<K, VR> {
    if (other instanceof GlobalKTable) {
      return streamGlobalTableJoin(this, other, second as never, options as never, false, last as string | undefined)
    }
    return this.#join(other, second as never, options as never, last as never, 'inner')
  }

  /** Like `join`, but every stream record (with a value) gives a result, with null when nothing matched. */
  leftJoin<VO, VR>(
    table: KTable<K, VO>,
    joiner: ValueJoiner<K, V, VO | null, VR>,
    joined?: Joined<K, V>
  ): KStream<K, VR>
  leftJoin<VO, VR>(
    other: KStream<K, VO>,
    joiner: ValueJoiner<K, V, VO | null, VR>,
    windows: JoinWindows,
    streamJoined?: StreamJoined<K, V, VO>
  ): KStream<K, VR>
  /** Like the GlobalKTable `join`, but every record with a value gives a result, null when nothing matched. */
  leftJoin<KT, VT, VR>(
    table: GlobalKTable<KT, VT>,
    tableKeyOf: (key: K, value: V) => KT | null,
    joiner: ValueJoiner<K, V, VT | null, VR>,
    name?: string
  ): KStream<K, VR>
  leftJoin<VO, VR>(
    other: KTable<K, VO> | KStream<K, VO> | GlobalKTable<unknown, VO>,
    second: ValueJoiner<K, V, VO | null, VR> | ((key: K, value: V) => unknown),
    options?: Joined<K, V> | JoinWindows | ValueJoiner<K, V, VO | null, VR>,
    last?: StreamJoined<K, V, VO> | string
  ): KStream<K, VR> {
    if (other instanceof GlobalKTable) {
      return streamGlobalTableJoin(this, other, second as never, options as never, true, last as string | undefined)
    }
    return this.#join(other, second as never, options as never, last as never, 'left')
  }

  /** A windowed join where unmatched records of either side give a result, with null for the missing side. */
  outerJoin<VO, VR>(
    other: KStream<K, VO>,
    joiner: ValueJoiner<K, V | null, VO | null, VR>,
    windows: JoinWindows,
    streamJoined: StreamJoined<K, V, VO> = {}
  ): KStream<K, VR> {
    return streamStreamJoin(this, other, joiner, windows, 'outer', streamJoined)
  }

  #join<VO, VR>(
    other: KTable<K, VO> | KStream<K, VO>,
    joiner: ValueJoiner<K, V, VO | null, VR>,
    options: Joined<K, V> | JoinWindows | undefined,
    streamJoined: StreamJoined<K, V, VO> | undefined,
    kind: 'inner' | 'left'
  ): KStream<K, VR> {
    if (other instanceof KStream) {
      if (options === undefined || !('beforeMs' in options)) {
        throw new TopologyError(
          'a stream-stream join needs JoinWindows, e.g. JoinWindows.ofTimeDifferenceWithNoGrace(60_000)'
        )
      }
      return streamStreamJoin(this, other, joiner, options, kind, streamJoined ?? {})
    }
    return streamTableJoin(this, other, joiner, kind === 'left', (options ?? {}) as Joined<K, V>)
  }

  /**
   * Plugs in a processor (Processor API). Store names connect stores added with `StreamsBuilder.addStateStore`.
   * The output types are the processor's forward types.
   */
  process<KOut, VOut>(supplier: ProcessorSupplier<K, V, KOut, VOut>, ...storeNames: string[]): KStream<KOut, VOut>
  process<KOut, VOut>(supplier: ProcessorSupplier<K, V, KOut, VOut>, options: ProcessOptions): KStream<KOut, VOut>
  process<KOut, VOut>(
    supplier: ProcessorSupplier<K, V, KOut, VOut>,
    ...rest: Array<string | ProcessOptions>
  ): KStream<KOut, VOut> {
    const options: ProcessOptions =
      rest.length === 1 && typeof rest[0] === 'object' ? (rest[0] as ProcessOptions) : { stores: rest as string[] }
    const stream = this.#add<KOut, VOut>('KSTREAM-PROCESSOR', options.name, supplier, {}, true)
    const stores = options.stores ?? []
    if (stores.length > 0)
      this.dsl.topology.connectProcessorAndStateStores(...stores.map((s) => [stream.nodeName, s] as const))
    return stream
  }

  /**
   * Like `process()`, for a processor that changes values only (Kafka Streams' `processValues`): it must forward
   * records with the key of the record it is processing. The stream keeps its key serde and partitioning, so a later
   * `groupByKey()` or join needs no repartition.
   */
  processValues<VOut>(supplier: ProcessorSupplier<K, V, K, VOut>, ...storeNames: string[]): KStream<K, VOut>
  processValues<VOut>(supplier: ProcessorSupplier<K, V, K, VOut>, options: ProcessOptions): KStream<K, VOut>
  processValues<VOut>(
    supplier: ProcessorSupplier<K, V, K, VOut>,
    ...rest: Array<string | ProcessOptions>
  ): KStream<K, VOut> {
    const options: ProcessOptions =
      rest.length === 1 && typeof rest[0] === 'object' ? (rest[0] as ProcessOptions) : { stores: rest as string[] }
    const nodeName = this.dsl.nameOr(options.name, 'KSTREAM-PROCESSVALUES')
    const stream = this.#add<K, VOut>(
      'KSTREAM-PROCESSVALUES',
      nodeName,
      fixedKeyProcessor(supplier, nodeName),
      { keySerde: this.serdes.keySerde },
      this.repartitionRequired
    )
    const stores = options.stores ?? []
    if (stores.length > 0)
      this.dsl.topology.connectProcessorAndStateStores(...stores.map((s) => [stream.nodeName, s] as const))
    return stream
  }

  #add<KR, VR>(
    prefix: string,
    name: string | undefined,
    supplier: ProcessorSupplier<K, V, KR, VR>,
    serdes: KnownSerdes<KR, VR>,
    repartitionRequired: boolean
  ): KStream<KR, VR> {
    const nodeName = this.dsl.nameOr(name, prefix)
    this.dsl.topology.addProcessor(nodeName, supplier, this.nodeName)
    return new KStream(this.dsl, nodeName, serdes, repartitionRequired)
  }

  #serdeFor<T>(part: 'key' | 'value', given: Serde<T> | undefined, where: string): Serde<T> {
    const serde = given ?? (part === 'key' ? this.serdes.keySerde : this.serdes.valueSerde)
    if (serde === undefined) {
      throw new TopologyError(
        `${where}: the ${part} serde of this stream is not known, because an operation since stream() changed the ` +
          `${part}'s type; pass ${part}Serde in the options`
      )
    }
    return serde as Serde<T>
  }
}
