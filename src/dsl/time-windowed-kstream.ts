import type { Serde } from '../serde/index.ts'
import { longSerde, timeWindowedSerde } from '../serde/index.ts'
import type { Windowed } from '../state/index.ts'
import {
  type Aggregator,
  countAdder,
  countInitializer,
  type Initializer,
  type Reducer,
  reduceAggregator,
  reduceInitializer
} from './aggregators.ts'
import { requireSerde, windowedStoreBuilder } from './dsl-stores.ts'
import { CLOSED_WINDOWS_EXTRA_RETENTION_MS, EmitStrategy } from './emit-strategy.ts'
import type { KGroupedStream } from './kgrouped-stream.ts'
import type { KTable } from './ktable.ts'
import type { Materialized } from './materialized.ts'
import { slidingWindowAggregateProcessor } from './sliding-window-aggregate-processor.ts'
import { timeWindowAggregateProcessor } from './window-aggregate-processors.ts'
import { type SlidingWindows, type TimeWindows, windowedTableInfo } from './windows.ts'

/**
 * A grouped stream windowed by `TimeWindows` (tumbling, hopping) or `SlidingWindows`. Aggregations give a
 * `KTable<Windowed<K>, V>` whose key serde is `Serdes.windowed(keySerde, windowSize)`, kept in a timestamped window
 * store that retains windows for size + grace (sliding: 2 x difference + grace) unless `materialized.retentionMs`
 * says longer; shorter is an error naming the store.
 */
export class TimeWindowedKStream<K, V> {
  readonly #grouped: KGroupedStream<K, V>
  readonly #windows: TimeWindows | SlidingWindows
  #emit: EmitStrategy = EmitStrategy.onWindowUpdate()

  /** @internal Made by `KGroupedStream.windowedBy()`. */
  constructor(grouped: KGroupedStream<K, V>, windows: TimeWindows | SlidingWindows) {
    this.#grouped = grouped
    this.#windows = windows
  }

  /**
   * When the aggregations made after this call emit (KIP-825): every update (`EmitStrategy.onWindowUpdate()`, the
   * default), or each window once when it closes (`EmitStrategy.onWindowClose()`), see `EmitStrategy`.
   */
  emitStrategy(strategy: EmitStrategy): this {
    this.#emit = strategy
    return this
  }

  count(materialized: Materialized<K, bigint> = {}): KTable<Windowed<K>, bigint> {
    return this.#aggregate('count', materialized, longSerde(), countInitializer, countAdder())
  }

  reduce(reducer: Reducer<V>, materialized: Materialized<K, V> = {}): KTable<Windowed<K>, V> {
    return this.#aggregate(
      'reduce',
      materialized,
      this.#grouped.knownValueSerde,
      reduceInitializer<V>(),
      reduceAggregator<K, V>(reducer)
    )
  }

  aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    materialized: Materialized<K, VA> = {}
  ): KTable<Windowed<K>, VA> {
    return this.#aggregate('aggregate', materialized, undefined, initializer, aggregator as never)
  }

  #aggregate<VA>(
    operation: string,
    materialized: Materialized<K, VA>,
    defaultValueSerde: Serde<VA> | undefined,
    initializer: Initializer<VA | null>,
    aggregator: Aggregator<K, V, VA | null>
  ): KTable<Windowed<K>, VA> {
    const windows = this.#windows
    const emit = this.#emit
    const sliding = windows.kind === 'sliding'
    const windowSizeMs = sliding ? windows.timeDifferenceMs : windows.sizeMs
    const minRetentionMs = sliding ? 2 * windows.timeDifferenceMs + windows.graceMs : windows.sizeMs + windows.graceMs
    let valueSerde: Serde<VA> | undefined
    return this.#grouped.addAggregation<Windowed<K>, VA>({
      operation,
      processorPrefix: sliding ? 'KSTREAM-SLIDINGWINDOWAGGREGATE' : 'KSTREAM-WINDOWAGGREGATE',
      materialized: materialized as Materialized<unknown, unknown>,
      storePrefix: 'KSTREAM-AGGREGATE-STATE-STORE',
      supplier: (storeName) => {
        const retentionMs = materialized.retentionMs ?? minRetentionMs
        return sliding
          ? slidingWindowAggregateProcessor(storeName, windows, initializer, aggregator, emit, retentionMs)
          : timeWindowAggregateProcessor(storeName, windows, initializer, aggregator, emit, retentionMs)
      },
      store: (storeName, keySerde) => {
        valueSerde = requireSerde(
          materialized.valueSerde,
          defaultValueSerde,
          'value',
          `windowed ${operation}() of store ${storeName}`,
          'Materialized'
        )
        return windowedStoreBuilder(
          storeName,
          materialized.keySerde ?? keySerde,
          valueSerde,
          windowSizeMs,
          minRetentionMs,
          storeMaterialized(
            materialized,
            emit,
            (retentionMs) => (retentionMs ?? minRetentionMs) + CLOSED_WINDOWS_EXTRA_RETENTION_MS,
            sliding
          )
        )
      },
      resultSerdes: (keySerde) => ({ keySerde: timeWindowedSerde(keySerde, windowSizeMs), valueSerde: valueSerde! }),
      windowInfo: windowedTableInfo(windows)
    })
  }
}

/**
 * The store's materialization under `emit`: emitting on window close, the store keeps windows longer than Kafka
 * Streams' would (`closeRetentionMs`), and the emitter shows only what Kafka Streams' would (see emit-strategy.ts).
 * Kafka Streams caches a time window store then as usual, but not a sliding window or session store (`uncached`).
 */
export function storeMaterialized<K, VA>(
  materialized: Materialized<K, VA>,
  emit: EmitStrategy,
  closeRetentionMs: (retentionMs: number | undefined) => number,
  uncached: boolean
): Materialized<unknown, unknown> {
  const store = materialized as Materialized<unknown, unknown>
  if (emit.type !== 'onWindowClose') return store
  return {
    ...store,
    retentionMs: closeRetentionMs(materialized.retentionMs),
    ...(uncached ? { caching: false } : {})
  }
}
