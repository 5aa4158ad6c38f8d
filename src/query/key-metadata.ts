/**
 * Key -> instance metadata (Kafka Streams' `queryMetadataForKey` / `metadataForAllStreamsClients`), computed from the
 * host maps every member receives with its assignment: the key is serialized with its serde and partitioned as the
 * store's input topic was (murmur2), and the host whose active tasks hold that partition answers for it.
 */
import type { Serde } from '../serde/index.ts'
import { QueryError } from './errors.ts'
import type { GroupHostMap, HostPartitions, QuerySource, StorePartitioning } from './query-source.ts'

export interface KeyQueryMetadata {
  /** applicationServer of the instance whose active task holds the key. */
  activeHost: string
  /** Instances with a standby copy (with `numStandbyReplicas` > 0). */
  standbyHosts: string[]
  /** The partition (= task partition) the key belongs to. */
  partition: number
}

export interface StreamsClientMetadata {
  host: string
  /** Stores of the topology (every instance runs the same one). */
  stores: string[]
  activePartitions: HostPartitions[]
  standbyPartitions: HostPartitions[]
}

function holds(partitions: readonly HostPartitions[] | undefined, topic: string, partition: number): boolean {
  return partitions?.some((p) => p.topic === topic && p.partitions.includes(partition)) ?? false
}

/** The host map, or the retriable error that says why there is none to trust right now. */
export function currentHostMap(source: QuerySource): GroupHostMap {
  const map = source.hostMap()
  if (!map) {
    throw new QueryError(
      'STREAMLANE_QUERY_UNAVAILABLE',
      'the group is rebalancing or has no assignment yet: which instance holds a key is not known; retry shortly'
    )
  }
  return map
}

export function storePartitioning(source: QuerySource, store: string): StorePartitioning {
  const partitioning = source.partitioning(store)
  if (partitioning) return partitioning
  if (source.hasStore?.(store)) {
    // A starting instance answers before it has read its topics' partition counts: asking again shortly works.
    throw new QueryError(
      'STREAMLANE_QUERY_UNAVAILABLE',
      `store ${store}: this instance has not learned its topics' partitions yet (it is starting); retry shortly`
    )
  }
  throw new QueryError('STREAMLANE_QUERY_UNKNOWN_STORE', `the topology has no state store ${store}`)
}

/** The partition of the store's tasks that holds `key`. */
export function partitionOfKey<K>(source: QuerySource, store: string, key: K, keySerde: Serde<K>): number {
  const { topic, partitions } = storePartitioning(source, store)
  const bytes = keySerde.serialize(topic, key)
  if (bytes === null) throw new QueryError('STREAMLANE_QUERY_REQUEST_INVALID', `store ${store}: a null key has no home`)
  return source.partitionFor(bytes, partitions)
}

export function queryMetadataForKey<K>(
  source: QuerySource,
  store: string,
  key: K,
  keySerde: Serde<K>
): KeyQueryMetadata {
  const { topic } = storePartitioning(source, store)
  const partition = partitionOfKey(source, store, key, keySerde)
  const map = currentHostMap(source)
  const activeHost = [...map.active].find(([, partitions]) => holds(partitions, topic, partition))?.[0]
  if (activeHost === undefined) {
    throw new QueryError(
      'STREAMLANE_QUERY_UNAVAILABLE',
      `store ${store}: no instance holds partition ${partition} of ${topic} as active (is applicationServer set on every instance?); retry shortly`
    )
  }
  const standbyHosts = [...map.standby].filter(([, ps]) => holds(ps, topic, partition)).map(([host]) => host)
  return { activeHost, standbyHosts, partition }
}

export function metadataForAllStreamsClients(source: QuerySource, stores: readonly string[]): StreamsClientMetadata[] {
  const map = currentHostMap(source)
  const hosts = new Set([...map.active.keys(), ...map.standby.keys()])
  return [...hosts].sort().map((host) => ({
    host,
    stores: [...stores],
    activePartitions: [...(map.active.get(host) ?? [])],
    standbyPartitions: [...(map.standby.get(host) ?? [])]
  }))
}
