import { Headers } from '../serde/index.ts'
import type { CachedStore, TimestampedKeyValueStore, ValueAndTimestamp } from '../state/index.ts'
import type { ProcessorContext, StreamRecord } from '../topology/index.ts'
import type { Change } from './change.ts'

/** Forwards a table update downstream, or leaves it to the store's cache (Kafka Streams' TimestampedTupleForwarder). */
export type TableForward<K, V> = (record: StreamRecord<K, Change<V>>) => void | Promise<void>

/**
 * Call in a processor's `init`, after getting its store. When the store is cached, its flush listener forwards each
 * key's latest update (with the value last forwarded as old value) on commit or eviction, and the returned function
 * does nothing; otherwise the returned function forwards every update itself. `stamp` gives the timestamp of a
 * flushed update from its key (sessions: the session end, as Kafka Streams' SessionCacheFlushListener), instead of
 * the timestamp of the record that caused it.
 */
export function tableForwarder<K, S, V>(
  store: CachedStore<K, S>,
  context: ProcessorContext<K, Change<V>>,
  unwrap: (stored: S) => V,
  stamp?: (key: K) => number
): TableForward<K, V> {
  const cached = store.setFlushListener(({ key, newValue, oldValue, timestamp }) => {
    void context.forward({
      key,
      value: {
        newValue: newValue === null ? null : unwrap(newValue),
        oldValue: oldValue === null ? null : unwrap(oldValue)
      },
      timestamp: stamp === undefined ? timestamp : stamp(key),
      headers: Headers.empty
    })
  }, true)
  return cached ? () => undefined : (record) => context.forward(record)
}

export const unwrapTimestamped = <V>(stored: ValueAndTimestamp<V>): V => stored.value

/**
 * Writes a table's new value for a key into its store and forwards the change (old value read from the store).
 * A delete of an absent key is forwarded too when the store is not cached (a tombstone downstream, as Kafka Streams'
 * TimestampedTupleForwarder does); the cache drops it at flush, since nothing downstream has seen the key.
 */
export function putAndForward<K, V>(
  store: TimestampedKeyValueStore<K, V>,
  forward: TableForward<K, V>,
  record: StreamRecord<K, unknown>,
  newValue: V | null,
  timestamp: number = record.timestamp
): void | Promise<void> {
  const old = store.get(record.key)
  store.put(record.key, newValue === null ? null : { value: newValue, timestamp }, timestamp)
  return forward({ ...record, value: { newValue, oldValue: old === null ? null : old.value }, timestamp })
}
