/**
 * Read-only views of the stores this instance holds (Kafka Streams' `KafkaStreams.store()`): one view over every
 * local active task of the store. A key lookup goes to the key's partition when the key's serde is known, and fails
 * with a retriable error when that partition is not here; scans visit each local partition in turn (ordered within a
 * partition, not across them). Reads see what the tasks have processed, record cache included, committed or not.
 */
import type { Serde } from '../serde/index.ts'
import {
  type KeyValue,
  type KeyValueIterator,
  keyValueView,
  MappingIterator,
  type ReadOnlyKeyValueStore,
  type ReadOnlySessionStore,
  type ReadOnlyWindowStore,
  type StoreFamily,
  type StoreKind,
  sessionView,
  storeFamily,
  type WindowStoreIterator,
  windowView
} from '../state/index.ts'
import type { StateStore } from '../topology/index.ts'
import { QueryError } from './errors.ts'
import { partitionOfKey, storePartitioning } from './key-metadata.ts'
import type { QuerySource } from './query-source.ts'

export interface LocalStoreOptions<K> {
  /** The store's key serde: key lookups then read only the key's partition (and say so when it is elsewhere). */
  keySerde?: Serde<K>
  /**
   * Kafka Streams' `StoreQueryParameters.enableStaleStores()`: a key lookup whose partition is not active here reads
   * the standby copy held here, if any; it lags the active task by the standby's changelog lag. A window or session
   * view does so only once the copy has caught up with its changelog since it opened (before, it may miss whole
   * windows): until then it throws STREAMLANE_QUERY_UNAVAILABLE (retriable), as an active task that is restoring.
   */
  enableStaleStores?: boolean
}

/** One view per local partition of the store, opened lazily, through `view`. */
class LocalPartitions<S> {
  readonly source: QuerySource
  readonly store: string
  readonly view: (store: StateStore) => S
  readonly stale: boolean
  /** Windows and sessions: a standby copy is read only once it has caught up (it may miss whole ones before). */
  readonly caughtUpCopiesOnly: boolean

  constructor(
    source: QuerySource,
    store: string,
    view: (store: StateStore) => S,
    stale: boolean,
    caughtUpCopiesOnly: boolean
  ) {
    this.source = source
    this.store = store
    this.view = view
    this.stale = stale
    this.caughtUpCopiesOnly = caughtUpCopiesOnly
  }

  /** The view of `partition`, or the retriable error that says why it cannot be read here. */
  at(partition: number): S {
    const found = this.source.localStore(this.store, partition)
    if (typeof found === 'object') return this.view(found)
    const standby = this.stale ? this.source.standbyStore(this.store, partition) : undefined
    if (standby && this.caughtUpCopiesOnly && !standby.caughtUp)
      throw standbyNotCaughtUp(this.store, partition, standby.lag)
    if (standby) return this.view(standby.store)
    if (found === 'restoring') {
      throw new QueryError(
        'STREAMLANE_QUERY_UNAVAILABLE',
        `store ${this.store}, partition ${partition}: the task is restoring its state; retry shortly`
      )
    }
    throw new QueryError(
      'STREAMLANE_QUERY_NOT_LOCAL',
      `store ${this.store}, partition ${partition}: not active on this instance (it may have moved); ask queryMetadataForKey and retry`
    )
  }

  all(): S[] {
    return this.source.localPartitions(this.store).map((p) => this.at(p))
  }
}

/** A window or session query on a standby copy that may still miss whole windows or sessions (retriable). */
export function standbyNotCaughtUp(store: string, partition: number, lag: bigint | undefined): QueryError {
  return new QueryError(
    'STREAMLANE_QUERY_UNAVAILABLE',
    `store ${store}, partition ${partition}: the standby copy here has not caught up with its changelog yet ` +
      `(lag ${lag ?? 'unknown'}) and may miss whole windows; retry shortly`
  )
}

/**
 * The view of a global store, when `store` is one: it is whole on every instance, so every read is answered here.
 * undefined when it is no global store.
 */
function globalView<S>(
  source: QuerySource,
  store: string,
  expected: StoreFamily,
  view: (store: StateStore, kind: StoreKind | undefined) => S
): S | undefined {
  const global = source.globalStore?.(store)
  if (global === undefined) return undefined
  if (global.kind !== undefined && storeFamily(global.kind) !== expected) {
    throw new QueryError(
      'STREAMLANE_QUERY_STORE_KIND',
      `store ${store} is a ${global.kind} store, not a ${expected} store`
    )
  }
  return view(global.store, global.kind)
}

function checkFamily(source: QuerySource, store: string, expected: StoreFamily): void {
  const { kind } = storePartitioning(source, store)
  if (kind !== undefined && storeFamily(kind) !== expected) {
    throw new QueryError('STREAMLANE_QUERY_STORE_KIND', `store ${store} is a ${kind} store, not a ${expected} store`)
  }
}

function partitions<K, S>(
  source: QuerySource,
  store: string,
  options: LocalStoreOptions<K>,
  view: (store: StateStore) => S,
  family: StoreFamily
) {
  return new LocalPartitions(source, store, view, options.enableStaleStores === true, family !== 'key-value')
}

/** Each store's iterator in turn; closing closes the one open. */
function concat<K, V>(opens: readonly (() => KeyValueIterator<K, V>)[]): KeyValueIterator<K, V> {
  let current: KeyValueIterator<K, V> | undefined
  function* entries(): Generator<KeyValue<K, V>> {
    for (const open of opens) {
      current = open()
      try {
        yield* current
      } finally {
        current.close()
      }
    }
  }
  const generator = entries()
  return new MappingIterator(
    generator,
    (entry) => entry,
    () => {
      current?.close()
      generator.return(undefined)
    }
  )
}

export function localKeyValueStore<K, V>(
  source: QuerySource,
  store: string,
  options: LocalStoreOptions<K> = {}
): ReadOnlyKeyValueStore<K, V> {
  const global = globalView(source, store, 'key-value', (s, kind) => keyValueView<K, V>(s as never, kind))
  if (global !== undefined) return global
  checkFamily(source, store, 'key-value')
  const { kind } = storePartitioning(source, store)
  const local = partitions(source, store, options, (s) => keyValueView<K, V>(s as never, kind), 'key-value')
  const { keySerde } = options
  return {
    name: store,
    get(key) {
      if (keySerde) return local.at(partitionOfKey(source, store, key, keySerde)).get(key)
      for (const view of local.all()) {
        const value = view.get(key)
        if (value !== null) return value
      }
      return null
    },
    range: (from, to) => concat(local.all().map((v) => () => v.range(from, to))),
    reverseRange: (from, to) => concat(local.all().map((v) => () => v.reverseRange(from, to))),
    prefixScan: (prefix, serde) => concat(local.all().map((v) => () => v.prefixScan(prefix, serde))),
    all: () => concat(local.all().map((v) => () => v.all())),
    reverseAll: () => concat(local.all().map((v) => () => v.reverseAll())),
    approximateNumEntries: () => local.all().reduce((sum, v) => sum + v.approximateNumEntries(), 0)
  }
}

export function localWindowStore<K, V>(
  source: QuerySource,
  store: string,
  options: LocalStoreOptions<K> = {}
): ReadOnlyWindowStore<K, V> {
  const global = globalView(source, store, 'window', (s, kind) => windowView<K, V>(s as never, kind))
  if (global !== undefined) return global
  checkFamily(source, store, 'window')
  const { kind } = storePartitioning(source, store)
  const local = partitions(source, store, options, (s) => windowView<K, V>(s as never, kind), 'window')
  const { keySerde } = options
  /** The views that may hold `key`: its partition's when the serde is known, else every local one. */
  const holding = (key: K) => (keySerde ? [local.at(partitionOfKey(source, store, key, keySerde))] : local.all())
  function fetch(key: K, windowStart: number): V | null
  function fetch(key: K, timeFrom: number, timeTo: number): WindowStoreIterator<V>
  function fetch(key: K, timeFrom: number, timeTo?: number): V | null | WindowStoreIterator<V> {
    if (timeTo === undefined) {
      for (const view of holding(key)) {
        const value = view.fetch(key, timeFrom)
        if (value !== null) return value
      }
      return null
    }
    return concat(holding(key).map((v) => () => v.fetch(key, timeFrom, timeTo)))
  }
  return {
    name: store,
    fetch,
    backwardFetch: (key, from, to) => concat(holding(key).map((v) => () => v.backwardFetch(key, from, to))),
    fetchAll: (from, to) => concat(local.all().map((v) => () => v.fetchAll(from, to))),
    all: () => concat(local.all().map((v) => () => v.all()))
  }
}

export function localSessionStore<K, AGG>(
  source: QuerySource,
  store: string,
  options: LocalStoreOptions<K> = {}
): ReadOnlySessionStore<K, AGG> {
  const global = globalView(source, store, 'session', (s) => sessionView<K, AGG>(s as never))
  if (global !== undefined) return global
  checkFamily(source, store, 'session')
  const local = partitions(source, store, options, (s) => sessionView<K, AGG>(s as never), 'session')
  const { keySerde } = options
  const holding = (key: K) => (keySerde ? [local.at(partitionOfKey(source, store, key, keySerde))] : local.all())
  return {
    name: store,
    findSessions: (key, earliestEnd, latestStart) =>
      concat(holding(key).map((v) => () => v.findSessions(key, earliestEnd, latestStart))),
    fetchSession(key, start, end) {
      for (const view of holding(key)) {
        const value = view.fetchSession(key, start, end)
        if (value !== null) return value
      }
      return null
    },
    fetch: (key) => concat(holding(key).map((v) => () => v.fetch(key))),
    all: () => concat(local.all().map((v) => () => v.all()))
  }
}
