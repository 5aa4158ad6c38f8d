import type { Serde } from '../serde/index.ts'

/**
 * How a table or an aggregation keeps its state store. Everything is optional: the store gets a generated name
 * (`KSTREAM-AGGREGATE-STATE-STORE-0000000003`) unless named, serdes default to what the DSL knows, and the store is
 * persistent (LMDB), logged to `<app.id>-<store>-changelog` and cached, as Kafka Streams' DSL stores are.
 *
 *   counts.count(Materialized.as('word-counts'))
 *   views.aggregate(init, add, Materialized.as('totals', { valueSerde: Serdes.json<Totals>(), caching: false }))
 */
export interface Materialized<K, V> {
  /** Names the store (letters, digits, `.`, `_`, `-`), its changelog and, for aggregations, the repartition topic. */
  readonly storeName?: string
  readonly keySerde?: Serde<K>
  readonly valueSerde?: Serde<V>
  /** Behind the task's record cache (default true): one downstream update and changelog record per key per commit. */
  readonly caching?: boolean
  /** Logged to the changelog (default true); an object sets changelog topic configs. */
  readonly logging?: boolean | Readonly<Record<string, string>>
  /** LMDB under the task directory (default true) or the heap (restored from the changelog on every start). */
  readonly persistent?: boolean
  /** Windowed stores only: how long windows are kept; at least window size + grace (the default). */
  readonly retentionMs?: number
}

export const Materialized = {
  /** A store named `storeName`. */
  as<K = never, V = never>(storeName: string, options: Omit<Materialized<K, V>, 'storeName'> = {}): Materialized<K, V> {
    return { ...options, storeName }
  },
  /** A store with a generated name and these serdes. */
  with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Materialized<K, V> {
    return {
      ...(keySerde === undefined ? {} : { keySerde }),
      ...(valueSerde === undefined ? {} : { valueSerde })
    }
  }
} as const
