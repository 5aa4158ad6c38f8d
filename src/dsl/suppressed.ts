import type { Serde } from '../serde/index.ts'

/**
 * `KTable.suppress(Suppressed.untilWindowCloses())`: emit each window's final result once, when stream time passes
 * the window's end plus its grace period, instead of every update (Kafka Streams' emit-final). The updates wait in a
 * buffer that is a logged key-value store, so they survive a restart and a move to another instance; its size is
 * unbounded, and on disk (LMDB) by default.
 */
export interface Suppressed<K, V> {
  readonly kind: 'untilWindowCloses' | 'untilTimeLimit'
  /** `untilTimeLimit`: how long (stream time) a key's first held update waits for more before the latest goes on. */
  readonly timeToWaitMs?: number
  /**
   * `untilTimeLimit` with `maxRecords` / `maxBytes`: a full buffer forwards its oldest updates early (`emitEarly`,
   * the default, Kafka Streams' `emitEarlyWhenFull`) or fails the task (`shutDown`). `untilWindowCloses` always
   * fails, since emitting early would break its promise of final results.
   */
  readonly whenFull?: 'emitEarly' | 'shutDown'
  /** Names the suppress node and its buffer store (`<name>-store`); default `KTABLE-SUPPRESS-<n>`. */
  readonly name?: string
  /** The windowed key serde for the buffer; default: the table's (known after `windowedBy(...).count()` & co). */
  readonly keySerde?: Serde<K>
  /** The value serde for the buffer; default: the table's. */
  readonly valueSerde?: Serde<V>
  /** The buffer on disk (default true) or on the heap (restored from its changelog on every start). */
  readonly persistent?: boolean
  /**
   * Bounds of the buffer (default unbounded): when more windows wait than this, or their keys and values take more
   * bytes, the task fails with `STREAMLANE_SUPPRESS_BUFFER_FULL` (Kafka Streams' `BufferConfig.shutDownWhenFull()`;
   * emitting early would break the promise of final results).
   */
  readonly maxRecords?: number
  readonly maxBytes?: number
}

export const Suppressed = {
  untilWindowCloses<K = never, V = never>(
    options: Omit<Suppressed<K, V>, 'kind' | 'timeToWaitMs' | 'whenFull'> = {}
  ): Suppressed<K, V> {
    return { ...options, kind: 'untilWindowCloses' }
  },
  /**
   * Rate-limits a table's updates (Kafka Streams' `Suppressed.untilTimeLimit`): the first update of a key is held
   * until stream time passes its timestamp plus `timeToWaitMs`; later updates of the key replace it meanwhile, and
   * the latest is forwarded then (tombstones too). For any table, windowed or not.
   */
  untilTimeLimit<K = never, V = never>(
    timeToWaitMs: number,
    options: Omit<Suppressed<K, V>, 'kind' | 'timeToWaitMs'> = {}
  ): Suppressed<K, V> {
    return { ...options, kind: 'untilTimeLimit', timeToWaitMs }
  }
} as const
