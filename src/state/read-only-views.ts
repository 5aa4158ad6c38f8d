import type {
  KeyValueStore,
  ReadOnlyKeyValueStore,
  ReadOnlySessionStore,
  ReadOnlyWindowStore,
  SessionStore,
  WindowStore
} from './stores.ts'

/**
 * Read-only views for interactive queries: objects with only the read methods, so query code cannot write a store
 * behind its task's back (a cast would not reach `put`). Reads see what the task has processed, including writes not
 * yet committed; reads never populate the record cache, so a query never evicts and forwards anything.
 */

export function readOnlyKeyValueStore<K, V>(store: KeyValueStore<K, V>): ReadOnlyKeyValueStore<K, V> {
  return {
    name: store.name,
    get: (key) => store.get(key),
    range: (from, to) => store.range(from, to),
    reverseRange: (from, to) => store.reverseRange(from, to),
    prefixScan: (prefix, serde) => store.prefixScan(prefix, serde),
    all: () => store.all(),
    reverseAll: () => store.reverseAll(),
    approximateNumEntries: () => store.approximateNumEntries()
  }
}

export function readOnlyWindowStore<K, V>(store: WindowStore<K, V>): ReadOnlyWindowStore<K, V> {
  function fetch(key: K, windowStart: number): V | null
  function fetch(key: K, timeFrom: number, timeTo: number): ReturnType<WindowStore<K, V>['backwardFetch']>
  function fetch(key: K, timeFrom: number, timeTo?: number) {
    return timeTo === undefined ? store.fetch(key, timeFrom) : store.fetch(key, timeFrom, timeTo)
  }
  return {
    name: store.name,
    fetch,
    backwardFetch: (key, from, to) => store.backwardFetch(key, from, to),
    fetchAll: (from, to) => store.fetchAll(from, to),
    all: () => store.all()
  }
}

export function readOnlySessionStore<K, AGG>(store: SessionStore<K, AGG>): ReadOnlySessionStore<K, AGG> {
  return {
    name: store.name,
    findSessions: (key, earliestEnd, latestStart) => store.findSessions(key, earliestEnd, latestStart),
    fetchSession: (key, start, end) => store.fetchSession(key, start, end),
    fetch: (key) => store.fetch(key),
    all: () => store.all()
  }
}
