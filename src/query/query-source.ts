import type { Serde } from '../serde/index.ts'
import type { StoreKind } from '../state/index.ts'
import type { StateStore } from '../topology/index.ts'

/** Partitions by topic, as the assignment's host maps carry them. */
export interface HostPartitions {
  topic: string
  partitions: number[]
}

/** The instances of the group and what they hold, from the last assignment this instance received. */
export interface GroupHostMap {
  /** applicationServer (host:port) -> partitions of its active tasks. */
  active: ReadonlyMap<string, readonly HostPartitions[]>
  /** applicationServer -> partitions of its standby tasks. */
  standby: ReadonlyMap<string, readonly HostPartitions[]>
}

/** Where a store's data is partitioned: a source topic of the store's sub-topology and its partition count. */
export interface StorePartitioning {
  topic: string
  partitions: number
  kind: StoreKind | undefined
  /** The store's key and (plain) value serdes, for answers in raw bytes; undefined when the store does not say. */
  serdes?: { key: Serde<unknown>; value: Serde<unknown> } | undefined
}

/**
 * What interactive queries read from a running app. The query layer owns this shape and the runtime fills it (as
 * observe's AppHealth), so query/ never imports the runtime and the app can offer the query API itself.
 */
export interface QuerySource {
  /** This instance's `applicationServer`, undefined when it publishes none. */
  readonly localHost: string | undefined
  /**
   * The host map of the current assignment; undefined before the first one and while the group rebalances (a map
   * that is being replaced could send a query to an instance that no longer holds the key).
   */
  hostMap(): GroupHostMap | undefined
  /** undefined: the topology has no store of that name, or the app has not learned its topics' partitions yet. */
  partitioning(store: string): StorePartitioning | undefined
  /** Whether the topology has a partitioned store of that name (known before the app has started). */
  hasStore?(store: string): boolean
  /** Java's default partitioner (murmur2), as the topics were written. */
  partitionFor(keyBytes: Uint8Array, partitions: number): number
  /**
   * The store of the active task for `partition` on this instance, as its processors see it (record cache included).
   * `restoring` when the task is here but has not caught up with its changelog; undefined when it is not here.
   */
  localStore(store: string, partition: number): StateStore | 'restoring' | undefined
  /** Partitions of the store's tasks active here and processing. */
  localPartitions(store: string): number[]
  /**
   * The standby copy of `store` for `partition` held here (a standby or warm-up task), with its changelog lag in
   * records (undefined until its reader has fetched each changelog partition once) and whether it has been level with
   * its changelog's end since it opened here (before that it may miss whole keys and windows); undefined when none is
   * here.
   */
  standbyStore(
    store: string,
    partition: number
  ): { store: StateStore; lag: bigint | undefined; caughtUp: boolean } | undefined
  /**
   * The global store of that name (a `GlobalKTable` or `addGlobalStore`), whole on every instance, once filled;
   * undefined when the topology has none of that name or before it is filled.
   */
  globalStore?(
    store: string
  ): { store: StateStore; kind: StoreKind | undefined; topic: string; serdes?: StorePartitioning['serdes'] } | undefined
}
