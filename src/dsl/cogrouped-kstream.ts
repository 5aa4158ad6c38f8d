import type { Serde } from '../serde/index.ts'
import { sessionWindowedSerde, timeWindowedSerde } from '../serde/index.ts'
import type { Windowed } from '../state/index.ts'
import type { ProcessorSupplier, StoreBuilder } from '../topology/index.ts'
import { TopologyError } from '../topology/index.ts'
import { streamAggregateProcessor } from './aggregate-processors.ts'
import type { Aggregator, Initializer, Merger } from './aggregators.ts'
import {
  addDslStore,
  requireSerde,
  sessionWindowStoreBuilder,
  storeNameFor,
  tableStoreBuilder,
  windowedStoreBuilder
} from './dsl-stores.ts'
import type { KGroupedStream } from './kgrouped-stream.ts'
import type { KnownSerdes } from './kstream.ts'
import { KTable } from './ktable.ts'
import type { Materialized } from './materialized.ts'
import { sessionRetentionMs } from './session-windowed-kstream.ts'
import { slidingWindowAggregateProcessor } from './sliding-window-aggregate-processor.ts'
import { passThrough } from './stateless-processors.ts'
import { sessionWindowAggregateProcessor, timeWindowAggregateProcessor } from './window-aggregate-processors.ts'
import {
  type SessionWindows,
  type SlidingWindows,
  type TimeWindows,
  type WindowedTableInfo,
  windowedTableInfo
} from './windows.ts'

type Inputs<K, VA> = ReadonlyArray<readonly [KGroupedStream<K, unknown>, Aggregator<K, unknown, VA>]>

/** How one cogrouped aggregation is kept: its processors, its store and the table it gives. */
interface CogroupAggregation<K, VA, KR> {
  readonly processor: (
    storeName: string,
    aggregator: Aggregator<K, unknown, VA | null>
  ) => ProcessorSupplier<K, unknown, unknown, unknown>
  readonly store: (storeName: string, keySerde: Serde<K>, valueSerde: Serde<VA>) => StoreBuilder
  readonly resultKeySerde: (keySerde: Serde<K>) => Serde<KR>
  readonly windowInfo: WindowedTableInfo | null
}

/**
 * Several grouped streams aggregated into one table (Kafka Streams' `CogroupedKStream`): each input has its own
 * aggregator, all update the same aggregate per key in one store, and the updates of all inputs come out as one
 * table. Each input whose key changed is repartitioned first (through `<store>-<i>-repartition` after the first);
 * the inputs must be co-partitioned, as they share one task. `windowedBy(windows)` aggregates per window instead.
 */
export class CogroupedKStream<K, VA> {
  readonly #inputs: Inputs<K, VA>

  /** @internal Made by `KGroupedStream.cogroup()`. */
  constructor(inputs: Inputs<K, VA>) {
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
    return buildCogroup<K, VA, K>(this.#inputs, materialized, {
      processor: (storeName, aggregator) => streamAggregateProcessor(storeName, initializer, aggregator),
      store: (storeName, keySerde, valueSerde) =>
        tableStoreBuilder(storeName, keySerde, valueSerde, materialized as Materialized<unknown, unknown>),
      resultKeySerde: (keySerde) => keySerde,
      windowInfo: null
    })
  }

  /**
   * Aggregates per window (Kafka Streams' `TimeWindowedCogroupedKStream`): tumbling or hopping `TimeWindows`, or
   * `SlidingWindows`, with the windowed aggregations' semantics (late records, grace, null values passed on); or per
   * session with `SessionWindows` (Kafka Streams' `SessionWindowedCogroupedKStream`).
   */
  windowedBy(windows: SessionWindows): SessionWindowedCogroupedKStream<K, VA>
  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedCogroupedKStream<K, VA>
  windowedBy(
    windows: TimeWindows | SlidingWindows | SessionWindows
  ): TimeWindowedCogroupedKStream<K, VA> | SessionWindowedCogroupedKStream<K, VA> {
    if (windows.kind === 'session') return new SessionWindowedCogroupedKStream(this.#inputs, windows)
    return new TimeWindowedCogroupedKStream(this.#inputs, windows)
  }
}

/**
 * Cogrouped streams aggregated per session into a `KTable<Windowed<K>, VA>` with `Serdes.sessionWindowed(keySerde)`
 * keys: each input's records open, extend and merge the sessions of its key as a session-windowed aggregation does
 * (each input with its own stream time), `merger` combining the aggregates of sessions a record joins.
 */
export class SessionWindowedCogroupedKStream<K, VA> {
  readonly #inputs: Inputs<K, VA>
  readonly #windows: SessionWindows

  /** @internal Made by `CogroupedKStream.windowedBy()`. */
  constructor(inputs: Inputs<K, VA>, windows: SessionWindows) {
    this.#inputs = inputs
    this.#windows = windows
  }

  aggregate(
    initializer: Initializer<VA>,
    merger: Merger<K, VA>,
    materialized: Materialized<K, VA> = {}
  ): KTable<Windowed<K>, VA> {
    const windows = this.#windows
    return buildCogroup<K, VA, Windowed<K>>(this.#inputs, materialized, {
      processor: (storeName, aggregator) =>
        sessionWindowAggregateProcessor(storeName, windows, initializer, aggregator, merger as Merger<K, VA | null>),
      store: (storeName, keySerde, valueSerde) =>
        sessionWindowStoreBuilder(
          storeName,
          keySerde,
          valueSerde,
          sessionRetentionMs(windows),
          materialized as Materialized<unknown, unknown>
        ),
      resultKeySerde: (keySerde) => sessionWindowedSerde(keySerde),
      windowInfo: windowedTableInfo(windows)
    })
  }
}

/** Cogrouped streams aggregated per time or sliding window into a `KTable<Windowed<K>, VA>`. */
export class TimeWindowedCogroupedKStream<K, VA> {
  readonly #inputs: Inputs<K, VA>
  readonly #windows: TimeWindows | SlidingWindows

  /** @internal Made by `CogroupedKStream.windowedBy()`. */
  constructor(inputs: Inputs<K, VA>, windows: TimeWindows | SlidingWindows) {
    this.#inputs = inputs
    this.#windows = windows
  }

  aggregate(initializer: Initializer<VA>, materialized: Materialized<K, VA> = {}): KTable<Windowed<K>, VA> {
    const windows = this.#windows
    const sliding = windows.kind === 'sliding'
    const windowSizeMs = sliding ? windows.timeDifferenceMs : windows.sizeMs
    const minRetentionMs = sliding ? 2 * windows.timeDifferenceMs + windows.graceMs : windows.sizeMs + windows.graceMs
    return buildCogroup<K, VA, Windowed<K>>(this.#inputs, materialized, {
      processor: (storeName, aggregator) =>
        sliding
          ? slidingWindowAggregateProcessor(storeName, windows, initializer, aggregator)
          : timeWindowAggregateProcessor(storeName, windows, initializer, aggregator),
      store: (storeName, keySerde, valueSerde) =>
        windowedStoreBuilder(
          storeName,
          keySerde,
          valueSerde,
          windowSizeMs,
          minRetentionMs,
          materialized as Materialized<unknown, unknown>
        ),
      resultKeySerde: (keySerde) => timeWindowedSerde(keySerde, windowSizeMs),
      windowInfo: windowedTableInfo(windows)
    })
  }
}

/**
 * Kafka Streams' layout: one aggregating node per input (`COGROUPKSTREAM-AGGREGATE-n`, each with its own stream
 * time), all writing the one store, then `COGROUPKSTREAM-MERGE-n` forwarding their updates.
 */
function buildCogroup<K, VA, KR>(
  inputs: Inputs<K, VA>,
  materialized: Materialized<K, VA>,
  aggregation: CogroupAggregation<K, VA, KR>
): KTable<KR, VA> {
  const first = inputs[0]![0]
  const dsl = first.dsl
  if (inputs.some(([g]) => g.dsl !== dsl)) throw new TopologyError('cogroup(): all inputs need the same StreamsBuilder')
  const storeName = storeNameFor(
    dsl,
    materialized as Materialized<unknown, unknown>,
    'COGROUPKSTREAM-AGGREGATE-STATE-STORE'
  )
  const where = `cogroup().aggregate() of store ${storeName}`
  const keySerde = requireSerde(
    materialized.keySerde,
    inputs.map(([g]) => g.knownKeySerde).find((s) => s !== undefined) as Serde<K> | undefined,
    'key',
    where,
    'Materialized'
  )
  const valueSerde = requireSerde(materialized.valueSerde, undefined, 'value', where, 'Materialized')
  const aggregators = inputs.map(([grouped, aggregator], i) => {
    const input = grouped.inputNode(i === 0 ? storeName : `${storeName}-${i}`, keySerde, where)
    const nodeName = dsl.newName('COGROUPKSTREAM-AGGREGATE')
    dsl.topology.addProcessor(
      nodeName,
      aggregation.processor(storeName, aggregator as Aggregator<K, unknown, VA | null>),
      input
    )
    return nodeName
  })
  addDslStore(dsl, aggregation.store(storeName, keySerde, valueSerde), ...aggregators)
  const merge = dsl.newName('COGROUPKSTREAM-MERGE')
  dsl.topology.addProcessor(merge, passThrough(), ...aggregators)
  const serdes: KnownSerdes<KR, VA> = { keySerde: aggregation.resultKeySerde(keySerde), valueSerde }
  return new KTable<KR, VA>(dsl, merge, serdes, storeName, aggregation.windowInfo)
}
