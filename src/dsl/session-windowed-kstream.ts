import type { Serde } from '../serde/index.ts'
import { longSerde, sessionWindowedSerde } from '../serde/index.ts'
import type { Windowed } from '../state/index.ts'
import {
  type Aggregator,
  countAdder,
  countInitializer,
  countMerger,
  type Initializer,
  type Merger,
  type Reducer,
  reduceAggregator,
  reduceInitializer,
  reduceMerger
} from './aggregators.ts'
import { requireSerde, sessionWindowStoreBuilder } from './dsl-stores.ts'
import { CLOSED_WINDOWS_EXTRA_RETENTION_MS, EmitStrategy } from './emit-strategy.ts'
import type { KGroupedStream } from './kgrouped-stream.ts'
import type { KTable } from './ktable.ts'
import type { Materialized } from './materialized.ts'
import { storeMaterialized } from './time-windowed-kstream.ts'
import { sessionWindowAggregateProcessor } from './window-aggregate-processors.ts'
import { type SessionWindows, windowedTableInfo } from './windows.ts'

/**
 * A grouped stream windowed by `SessionWindows`. Aggregations give a `KTable<Windowed<K>, V>` with
 * `Serdes.sessionWindowed(keySerde)` keys, kept in a session store retaining sessions for gap + grace + 1 ms after
 * their end (or `materialized.retentionMs`, not less). When a record merges sessions, the merged-away ones are deleted
 * downstream (null new value) and the merged one updated; `aggregate` takes a `merger` for that.
 */
export class SessionWindowedKStream<K, V> {
  readonly #grouped: KGroupedStream<K, V>
  readonly #windows: SessionWindows
  #emit: EmitStrategy = EmitStrategy.onWindowUpdate()

  /** @internal Made by `KGroupedStream.windowedBy()`. */
  constructor(grouped: KGroupedStream<K, V>, windows: SessionWindows) {
    this.#grouped = grouped
    this.#windows = windows
  }

  /**
   * When the aggregations made after this call emit (KIP-825): every update (the default), or each session once
   * when it closes (`EmitStrategy.onWindowClose()`: stream time passed its end plus gap plus grace).
   */
  emitStrategy(strategy: EmitStrategy): this {
    this.#emit = strategy
    return this
  }

  count(materialized: Materialized<K, bigint> = {}): KTable<Windowed<K>, bigint> {
    return this.#aggregate('count', materialized, longSerde(), countInitializer, countAdder(), countMerger)
  }

  reduce(reducer: Reducer<V>, materialized: Materialized<K, V> = {}): KTable<Windowed<K>, V> {
    return this.#aggregate(
      'reduce',
      materialized,
      this.#grouped.knownValueSerde,
      reduceInitializer<V>(),
      reduceAggregator<K, V>(reducer),
      reduceMerger<K, V>(reducer)
    )
  }

  aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    merger: Merger<K, VA>,
    materialized: Materialized<K, VA> = {}
  ): KTable<Windowed<K>, VA> {
    return this.#aggregate('aggregate', materialized, undefined, initializer, aggregator as never, merger as never)
  }

  #aggregate<VA>(
    operation: string,
    materialized: Materialized<K, VA>,
    defaultValueSerde: Serde<VA> | undefined,
    initializer: Initializer<VA | null>,
    aggregator: Aggregator<K, V, VA | null>,
    merger: Merger<K, VA | null>
  ): KTable<Windowed<K>, VA> {
    const windows = this.#windows
    const emit = this.#emit
    let valueSerde: Serde<VA> | undefined
    return this.#grouped.addAggregation<Windowed<K>, VA>({
      operation,
      processorPrefix: 'KSTREAM-SESSIONWINDOWAGGREGATE',
      materialized: materialized as Materialized<unknown, unknown>,
      storePrefix: 'KSTREAM-AGGREGATE-STATE-STORE',
      supplier: (storeName) =>
        sessionWindowAggregateProcessor(
          storeName,
          windows,
          initializer,
          aggregator,
          merger,
          emit,
          materialized.retentionMs
        ),
      store: (storeName, keySerde) => {
        valueSerde = requireSerde(
          materialized.valueSerde,
          defaultValueSerde,
          'value',
          `session ${operation}() of store ${storeName}`,
          'Materialized'
        )
        return sessionWindowStoreBuilder(
          storeName,
          materialized.keySerde ?? keySerde,
          valueSerde,
          sessionRetentionMs(windows),
          storeMaterialized(materialized, emit, (retentionMs) => closedSessionsRetentionMs(windows, retentionMs), true)
        )
      },
      resultSerdes: (keySerde) => ({ keySerde: sessionWindowedSerde(keySerde), valueSerde: valueSerde! }),
      windowInfo: windowedTableInfo(windows)
    })
  }
}

/**
 * A record at stream time minus grace may still merge with a session that ended `gap` before it, so the store must
 * keep sessions ending exactly gap + grace ago: one millisecond more than Kafka Streams' gap + grace, which loses
 * that merge at the boundary.
 */
export function sessionRetentionMs(windows: SessionWindows): number {
  return windows.inactivityGapMs + windows.graceMs + 1
}

/**
 * Kafka Streams' session store for emit-on-window-close keeps closed sessions until their whole segment expires
 * (segments of max(retention / 2, 60 s)), and emits them only then: the store is built to keep them that long, and
 * the processor reads it as Kafka Streams' would (`sessionWindowAggregateProcessor`).
 */
export function closedSessionsRetentionMs(windows: SessionWindows, retentionMs: number | undefined): number {
  const kafkaStreamsRetention = retentionMs ?? windows.inactivityGapMs + windows.graceMs
  return kafkaStreamsRetention + sessionSegmentIntervalMs(kafkaStreamsRetention) + CLOSED_WINDOWS_EXTRA_RETENTION_MS
}

/** Kafka Streams' segment interval of a session store. */
export function sessionSegmentIntervalMs(retentionMs: number): number {
  return Math.max(Math.floor(retentionMs / 2), 60_000)
}
