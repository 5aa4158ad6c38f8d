import { StreamlaneError } from '../errors.ts'
import type {
  KeyValueStore,
  ReadOnlyKeyValueStore,
  ReadOnlySessionStore,
  ReadOnlyWindowStore,
  SessionStore,
  StoreKind,
  ValueAndTimestamp,
  WindowStore
} from '../state/index.ts'
import {
  type KeyValueIterator,
  MappingIterator,
  readOnlyKeyValueStore,
  readOnlySessionStore,
  readOnlyWindowStore
} from '../state/index.ts'
import type { StateStore } from '../topology/index.ts'

/**
 * Read-only typed views of a driver's stores, as Kafka Streams' test driver gives them: `getKeyValueStore` of a
 * timestamped store (every DSL table and aggregation) shows plain values, `getTimestampedKeyValueStore` shows
 * `{ value, timestamp }`. Reads see every update processed so far, committed or not.
 */

export type StoreFamily = 'key-value' | 'window' | 'session'

const FAMILY: Record<StoreKind, StoreFamily> = {
  'key-value': 'key-value',
  'timestamped-key-value': 'key-value',
  window: 'window',
  'timestamped-window': 'window',
  session: 'session'
}

/** Checks that the store is of the expected family (stores of unknown builders are trusted). */
export function checkFamily(name: string, kind: StoreKind | undefined, expected: StoreFamily): void {
  if (kind === undefined || FAMILY[kind] === expected) return
  throw new StreamlaneError(
    'STREAMLANE_TEST_STORE_KIND',
    `state store ${name} is a ${kind} store, not a ${expected} store; use the matching get...Store() method`
  )
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
