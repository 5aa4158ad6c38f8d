import type { QuerySource } from './query-source.ts'

/** How far a store partition held here is behind its changelog (Kafka Streams' LagInfo, in records). */
export interface StorePartitionLag {
  /** `active`: an active task's store (processing: lag 0; `restoring`: catching up, lag unknown here). */
  kind: 'active' | 'restoring' | 'standby'
  /** Changelog records not applied yet; undefined while unknown (a standby before its first fetch, a restoring task). */
  offsetLag: bigint | undefined
  /** A standby copy: it has been level with its changelog since it opened (it holds every window, as of `offsetLag`). */
  caughtUp?: boolean
}

/**
 * Kafka Streams' `allLocalStorePartitionLags()`: every partition of every partitioned store held here, active or
 * standby, with its lag, so a caller of the in-process views with `enableStaleStores` can tell how stale a read is.
 */
export function allLocalStorePartitionLags(
  source: QuerySource,
  stores: readonly string[]
): Map<string, Map<number, StorePartitionLag>> {
  const lags = new Map<string, Map<number, StorePartitionLag>>()
  for (const store of stores) {
    const partitions = source.partitioning(store)?.partitions ?? 0
    const held = new Map<number, StorePartitionLag>()
    for (let partition = 0; partition < partitions; partition++) {
      const active = source.localStore(store, partition)
      if (typeof active === 'object') held.set(partition, { kind: 'active', offsetLag: 0n })
      else if (active === 'restoring') held.set(partition, { kind: 'restoring', offsetLag: undefined })
      else {
        const standby = source.standbyStore(store, partition)
        if (standby) held.set(partition, { kind: 'standby', offsetLag: standby.lag, caughtUp: standby.caughtUp })
      }
    }
    if (held.size > 0) lags.set(store, held)
  }
  return lags
}
