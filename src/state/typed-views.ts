import type { StateStore } from '../topology/index.ts'
import { type KeyValueIterator, MappingIterator } from './key-value-iterator.ts'
import { readOnlyKeyValueStore, readOnlySessionStore, readOnlyWindowStore } from './read-only-views.ts'
import type { StoreKind } from './store-builders.ts'
import type {
  KeyValueStore,
  ReadOnlyKeyValueStore,
  ReadOnlySessionStore,
  ReadOnlyWindowStore,
  SessionStore,
  ValueAndTimestamp,
  WindowStore
} from './stores.ts'

/**
 * Read-only typed views of a task's store, as Kafka Streams' test driver and interactive queries give them: a
 * timestamped store (every DSL table and aggregation) shows plain values. Reads see every update processed so far,
 * committed or not (the record cache included).
 */

export type StoreFamily = 'key-value' | 'window' | 'session'

const FAMILY: Record<StoreKind, StoreFamily> = {
  'key-value': 'key-value',
  'timestamped-key-value': 'key-value',
  window: 'window',
  'timestamped-window': 'window',
  session: 'session'
}

/** Which typed view a store kind takes. */
export function storeFamily(kind: StoreKind): StoreFamily {
  return FAMILY[kind]
}

function unwrapIterator<K, V>(source: KeyValueIterator<K, ValueAndTimestamp<V>>): KeyValueIterator<K, V> {
  return new MappingIterator(
    source,
    (entry) => ({ key: entry.key, value: entry.value.value }),
    () => source.close()
  )
}

export function keyValueView<K, V>(store: StateStore, kind: StoreKind | undefined): ReadOnlyKeyValueStore<K, V> {
  if (kind !== 'timestamped-key-value') return readOnlyKeyValueStore(store as KeyValueStore<K, V>)
  const inner = readOnlyKeyValueStore(store as KeyValueStore<K, ValueAndTimestamp<V>>)
  return {
    name: inner.name,
    get: (key) => inner.get(key)?.value ?? null,
    range: (from, to) => unwrapIterator(inner.range(from, to)),
    reverseRange: (from, to) => unwrapIterator(inner.reverseRange(from, to)),
    prefixScan: (prefix, serde) => unwrapIterator(inner.prefixScan(prefix, serde)),
    all: () => unwrapIterator(inner.all()),
    reverseAll: () => unwrapIterator(inner.reverseAll()),
    approximateNumEntries: () => inner.approximateNumEntries()
  }
}

export function windowView<K, V>(store: StateStore, kind: StoreKind | undefined): ReadOnlyWindowStore<K, V> {
  if (kind !== 'timestamped-window') return readOnlyWindowStore(store as WindowStore<K, V>)
  const inner = readOnlyWindowStore(store as WindowStore<K, ValueAndTimestamp<V>>)
  function fetch(key: K, windowStart: number): V | null
  function fetch(key: K, timeFrom: number, timeTo: number): KeyValueIterator<number, V>
  function fetch(key: K, timeFrom: number, timeTo?: number): V | null | KeyValueIterator<number, V> {
    if (timeTo === undefined) return inner.fetch(key, timeFrom)?.value ?? null
    return unwrapIterator(inner.fetch(key, timeFrom, timeTo))
  }
  return {
    name: inner.name,
    fetch,
    backwardFetch: (key, from, to) => unwrapIterator(inner.backwardFetch(key, from, to)),
    fetchAll: (from, to) => unwrapIterator(inner.fetchAll(from, to)),
    all: () => unwrapIterator(inner.all())
  }
}

export function sessionView<K, V>(store: StateStore): ReadOnlySessionStore<K, V> {
  return readOnlySessionStore(store as SessionStore<K, V>)
}
