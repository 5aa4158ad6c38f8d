/**
 * What processors (and interactive queries) can do with a store. Read-only views are what interactive queries get;
 * the full interfaces add writes and the lifecycle of `StateStore`.
 *
 * Ordering: every iterator is ordered by the SERIALIZED key bytes, compared lexicographically as unsigned bytes
 * (shorter first when one is a prefix of the other), exactly like Kafka Streams over RocksDB. That is the natural
 * order only for serdes that preserve it (big-endian unsigned integers, ASCII strings); a `Serdes.int32()` key -1
 * sorts after 1 because its first byte is 0xff. `range(from, to)` compares serialized bounds the same way.
 *
 * Iterators are synchronous: LMDB and the in-memory backend both answer from memory maps or the heap without I/O
 * waits, and a sync loop keeps a processor sync (no promise per record). Close an iterator you do not exhaust
 * (`for...of` with `break` closes it for you): an LMDB iterator holds a read snapshot until then.
 */
import type { Serde } from '../serde/index.ts'
import type { StateStore } from '../topology/index.ts'
import type { KeyValue, KeyValueIterator } from './key-value-iterator.ts'

export type { KeyValue, KeyValueIterator } from './key-value-iterator.ts'

/** A store's latest value per key as the caching layer forwards it on flush or eviction. */
export interface CacheFlushEvent<K, V> {
  readonly key: K
  /** `null`: the key was deleted. */
  readonly newValue: V | null
  /** The value before this flush, only when the listener asked for old values; `null` otherwise or when absent. */
  readonly oldValue: V | null
  /** The timestamp of the record that made the latest update. */
  readonly timestamp: number
}

export type CacheFlushListener<K, V> = (event: CacheFlushEvent<K, V>) => void

/** Stores that may sit behind the record cache (`cacheMaxBytes` > 0 and caching enabled on the builder). */
export interface CachedStore<K, V> {
  /**
   * Registers the callback that forwards cached updates downstream. Returns `true` when the store is cached: the
   * DSL processor must then NOT forward updates itself (the listener does, deduplicated, on commit or eviction).
   * Returns `false` when caching is off for this store: the processor forwards every update itself. Call it in
   * the processor's `init`, after the store is initialised.
   */
  setFlushListener(listener: CacheFlushListener<K, V>, sendOldValues: boolean): boolean
}

export interface ReadOnlyKeyValueStore<K, V> {
  readonly name: string
  get(key: K): V | null
  /** Keys from `from` to `to`, both inclusive; `null` is unbounded. Empty when `from` > `to` (as bytes). */
  range(from: K | null, to: K | null): KeyValueIterator<K, V>
  /** The same entries as `range`, last key first. */
  reverseRange(from: K | null, to: K | null): KeyValueIterator<K, V>
  /** Keys whose serialized bytes start with `prefixSerde.serialize(prefix)`, in key order. */
  prefixScan<P>(prefix: P, prefixSerde: Serde<P>): KeyValueIterator<K, V>
  all(): KeyValueIterator<K, V>
  reverseAll(): KeyValueIterator<K, V>
  /** Exact for the in-memory backend, LMDB's entry count plus uncommitted inserts otherwise; may overcount a little. */
  approximateNumEntries(): number
}

export interface KeyValueStore<K, V> extends StateStore, ReadOnlyKeyValueStore<K, V>, CachedStore<K, V> {
  /** `null` deletes the key (and logs a tombstone). */
  /**
   * Writes (null: deletes) a key. `deleteTimestampMs` stamps a delete's changelog record and cache entry; default:
   * the timestamp of the record being processed (a delete forwarded from a cache flush passes the flushed one's).
   */
  put(key: K, value: V | null, deleteTimestampMs?: number): void
  /** Writes only when the key has no value; returns the existing value, or `null` when it wrote. */
  putIfAbsent(key: K, value: V): V | null
  putAll(entries: Iterable<KeyValue<K, V | null>>): void
  /** Returns the value it deleted, or `null`. */
  delete(key: K): V | null
}

/** A value with the timestamp of the record that produced it (KTable semantics need both). */
export interface ValueAndTimestamp<V> {
  readonly value: V
  readonly timestamp: number
}

/**
 * A key-value store whose values carry timestamps. The changelog holds the plain value with the timestamp as the
 * record timestamp (as in Kafka Streams), so a source topic can serve as a table's changelog.
 */
export type TimestampedKeyValueStore<K, V> = KeyValueStore<K, ValueAndTimestamp<V>>
export type ReadOnlyTimestampedKeyValueStore<K, V> = ReadOnlyKeyValueStore<K, ValueAndTimestamp<V>>

/** A time window: `start` inclusive, `end` exclusive for fixed windows; both inclusive for sessions (as in KS). */
export interface TimeWindow {
  readonly start: number
  readonly end: number
}

/** A key and the window it was aggregated in. */
export interface Windowed<K> {
  readonly key: K
  readonly window: TimeWindow
}

/** Iterates one key's windows: the entry key is the window start. */
export type WindowStoreIterator<V> = KeyValueIterator<number, V>

export interface ReadOnlyWindowStore<K, V> {
  readonly name: string
  /** The value of `key` in the window starting at `windowStart`, or `null`. */
  fetch(key: K, windowStart: number): V | null
  /** `key`'s windows whose start is in [`timeFrom`, `timeTo`], oldest first. */
  fetch(key: K, timeFrom: number, timeTo: number): WindowStoreIterator<V>
  /** The same windows as `fetch(key, timeFrom, timeTo)`, newest first. */
  backwardFetch(key: K, timeFrom: number, timeTo: number): WindowStoreIterator<V>
  /** Every key's windows whose start is in [`timeFrom`, `timeTo`], ordered by segment, then key bytes, then start. */
  fetchAll(timeFrom: number, timeTo: number): KeyValueIterator<Windowed<K>, V>
  /** Every unexpired window, in the same order as `fetchAll`. */
  all(): KeyValueIterator<Windowed<K>, V>
}

/**
 * Windows of fixed size per key. Windows older than the retention period (measured against the largest window
 * start the store has seen, its observed stream time) are invisible and eventually deleted; a put into an expired
 * window is dropped and counted in `expiredPuts`.
 */
export interface WindowStore<K, V> extends StateStore, ReadOnlyWindowStore<K, V>, CachedStore<Windowed<K>, V> {
  readonly windowSizeMs: number
  readonly retentionMs: number
  /** Puts dropped because their window had already expired. */
  readonly expiredPuts: number
  /** `null` deletes the window (unless the store retains duplicates, where `null` is ignored, as in KS). */
  put(key: K, value: V | null, windowStartMs: number): void
}

export type TimestampedWindowStore<K, V> = WindowStore<K, ValueAndTimestamp<V>>

export interface ReadOnlySessionStore<K, AGG> {
  readonly name: string
  /**
   * Sessions of `key` that end at or after `earliestSessionEndTime` and start at or before `latestSessionStartTime`:
   * the sessions a record at time t with inactivity gap g merges with are `findSessions(key, t - g, t + g)`.
   * Ordered by end, then start.
   */
  findSessions(
    key: K,
    earliestSessionEndTime: number,
    latestSessionStartTime: number
  ): KeyValueIterator<Windowed<K>, AGG>
  /** The aggregate of exactly this session, or `null`. */
  fetchSession(key: K, sessionStart: number, sessionEnd: number): AGG | null
  /** Every unexpired session of `key`. */
  fetch(key: K): KeyValueIterator<Windowed<K>, AGG>
  /** Every unexpired session, ordered by segment, key bytes, end, start. */
  all(): KeyValueIterator<Windowed<K>, AGG>
}

/** Sessions per key, each `[start, end]` both inclusive; expired by `end` against observed stream time. */
export interface SessionStore<K, AGG> extends StateStore, ReadOnlySessionStore<K, AGG>, CachedStore<Windowed<K>, AGG> {
  readonly retentionMs: number
  readonly expiredPuts: number
  /** `null` removes the session. */
  put(sessionKey: Windowed<K>, aggregate: AGG | null): void
  remove(sessionKey: Windowed<K>): void
}
