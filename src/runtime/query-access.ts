/**
 * What the app gives interactive queries (query/'s QuerySource): the host maps of its last assignment, where each
 * store is partitioned, and its active tasks' stores. Kept apart from the app so the app only stores the host maps.
 */
import { murmur2Partition } from '../kafka/index.ts'
import type { GroupHostMap, QuerySource, StorePartitioning } from '../query/index.ts'
import type { StoreKind } from '../state/index.ts'
import { type StateStore, TaskId, type TopologyPlan } from '../topology/index.ts'
import type { StandbyTasks } from './standby-tasks.ts'
import type { TaskManager } from './task-manager.ts'

export interface QueryAccessOptions {
  plan: TopologyPlan
  applicationServer: string | undefined
  /** Source topics per sub-topology, pattern matches included, and every topic's partition count (from topic setup). */
  sourceTopics: () => ReadonlyMap<number, readonly string[]> | undefined
  partitionCounts: () => ReadonlyMap<string, number> | undefined
  tasks: () => TaskManager | undefined
  /** The standby and warm-up copies held here (stale reads), undefined without standbys. */
  standbys: () => StandbyTasks | undefined
  /** undefined before the first assignment and while the group rebalances. */
  hostMap: () => GroupHostMap | undefined
  /** The process's global stores once bootstrapped; undefined before (or without any). */
  globalStores?: () => ReadonlyMap<string, StateStore> | undefined
}

export function queryAccess(options: QueryAccessOptions): QuerySource {
  const { plan } = options
  const subtopologyOf = (store: string) => plan.subtopologies.find((sub) => sub.stores.includes(store))
  return {
    localHost: options.applicationServer,
    hostMap: options.hostMap,
    partitioning(store) {
      const sub = subtopologyOf(store)
      const builder = plan.storeBuilders.get(store)
      const topic = sub && options.sourceTopics()?.get(sub.id)?.[0]
      const partitions = topic === undefined ? undefined : options.partitionCounts()?.get(topic)
      if (!builder || topic === undefined || partitions === undefined) return undefined
      const { kind, serdes } = builder as { kind?: StoreKind; serdes?: StorePartitioning['serdes'] }
      return { topic, partitions, kind, serdes }
    },
    hasStore: (store) => subtopologyOf(store) !== undefined || plan.globalStores.has(store),
    partitionFor: (keyBytes, partitions) => murmur2Partition(keyBytes, partitions),
    globalStore(store) {
      const definition = plan.globalStores.get(store)
      const open = definition && options.globalStores?.()?.get(store)
      if (!open) return undefined
      const { kind, serdes } = definition.builder as { kind?: StoreKind; serdes?: StorePartitioning['serdes'] }
      return { store: open, kind, topic: definition.topic, serdes }
    },
    localStore(store, partition) {
      const sub = subtopologyOf(store)
      if (!sub) return undefined
      return options.tasks()?.storeOf(new TaskId(sub.id, partition).toString(), store)
    },
    standbyStore(store, partition) {
      const sub = subtopologyOf(store)
      return sub && options.standbys()?.storeOf(new TaskId(sub.id, partition).toString(), store)
    },
    localPartitions(store) {
      const sub = subtopologyOf(store)
      const tasks = options.tasks()
      if (!sub || !tasks) return []
      return tasks.taskIds
        .map((id) => TaskId.parse(id))
        .filter((id) => id.subtopology === sub.id && typeof tasks.storeOf(id.toString(), store) === 'object')
        .map((id) => id.partition)
        .sort((a, b) => a - b)
    }
  }
}
