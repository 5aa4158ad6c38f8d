import type { Serde } from '../serde/index.ts'
import type { SessionStore, TimestampedKeyValueStore, TimestampedWindowStore } from '../state/index.ts'
import {
  type StreamlaneStoreBuilder,
  sessionStoreBuilder,
  timestampedKeyValueStoreBuilder,
  timestampedWindowStoreBuilder
} from '../state/index.ts'
import type { StoreBuilder } from '../topology/index.ts'
import { TopologyError } from '../topology/index.ts'
import type { DslContext } from './dsl-context.ts'
import type { Materialized } from './materialized.ts'

/**
 * The stores the DSL creates for tables and aggregations, with Kafka Streams' DSL defaults: persistent, logged and
 * cached unless `Materialized` says otherwise.
 */

/** The user's store name, or a generated one (`KSTREAM-AGGREGATE-STATE-STORE-0000000003`). */
export function storeNameFor(dsl: DslContext, materialized: Materialized<unknown, unknown>, prefix: string): string {
  const name = materialized.storeName
  if (name === undefined) return dsl.newName(prefix)
  if (typeof name !== 'string' || name.length === 0)
    throw new TopologyError('Materialized.storeName must be a non-empty string')
  return name
}

/** Adds a store for the named processors; a name used twice is an error naming it. */
export function addDslStore(dsl: DslContext, builder: StoreBuilder, ...processorNames: string[]): void {
  if (dsl.topology.storeBuilders().has(builder.name)) {
    throw new TopologyError(
      `the store name ${builder.name} is used twice: a state store named ${builder.name} already exists in this ` +
        'topology (store names must be unique: they name changelog topics and interactive queries)'
    )
  }
  dsl.topology.addStateStore(builder, ...processorNames)
}

/** The serde given, else the one the DSL knows, else an error saying where to pass it. */
export function requireSerde<T>(
  given: Serde<T> | undefined,
  known: Serde<T> | undefined,
  part: 'key' | 'value',
  where: string,
  option: string
): Serde<T> {
  const serde = given ?? known
  if (serde === undefined) {
    throw new TopologyError(
      `${where}: the ${part} serde is not known, because an operation before it changed the ${part}'s type; ` +
        `pass ${part}Serde in ${option}`
    )
  }
  return serde
}

function common(materialized: Materialized<unknown, unknown>) {
  return {
    caching: materialized.caching ?? true,
    ...(materialized.logging === undefined ? {} : { logging: materialized.logging }),
    ...(materialized.persistent === undefined ? {} : { persistent: materialized.persistent })
  }
}

export function tableStoreBuilder<K, V>(
  name: string,
  keySerde: Serde<K>,
  valueSerde: Serde<V>,
  materialized: Materialized<unknown, unknown>
): StreamlaneStoreBuilder<TimestampedKeyValueStore<K, V>> {
  return timestampedKeyValueStoreBuilder({ name, keySerde, valueSerde, ...common(materialized) })
}

/** A window store keeping windows for `size + grace` unless the user asked for longer; shorter is an error. */
export function windowedStoreBuilder<K, V>(
  name: string,
  keySerde: Serde<K>,
  valueSerde: Serde<V>,
  windowSizeMs: number,
  minRetentionMs: number,
  materialized: Materialized<unknown, unknown>
): StreamlaneStoreBuilder<TimestampedWindowStore<K, V>> {
  const retentionMs = checkedRetention(name, minRetentionMs, materialized)
  return timestampedWindowStoreBuilder({
    name,
    keySerde,
    valueSerde,
    windowSizeMs,
    retentionMs,
    ...common(materialized)
  })
}

export function sessionWindowStoreBuilder<K, V>(
  name: string,
  keySerde: Serde<K>,
  valueSerde: Serde<V>,
  minRetentionMs: number,
  materialized: Materialized<unknown, unknown>
): StreamlaneStoreBuilder<SessionStore<K, V>> {
  const retentionMs = checkedRetention(name, minRetentionMs, materialized)
  return sessionStoreBuilder({ name, keySerde, valueSerde, retentionMs, ...common(materialized) })
}

function checkedRetention(name: string, minRetentionMs: number, materialized: Materialized<unknown, unknown>): number {
  const retentionMs = materialized.retentionMs ?? minRetentionMs
  if (!Number.isSafeInteger(retentionMs) || retentionMs < minRetentionMs) {
    throw new TopologyError(
      `window store ${name}: the retention (${String(retentionMs)} ms) must be at least the window size plus the ` +
        `grace period (${minRetentionMs} ms), or windows would be deleted while they still accept records`
    )
  }
  return retentionMs
}
