import type { TopicPartitions } from './types.ts'

/**
 * Set arithmetic on `{topic, partitions}` lists, the shape the consumer protocol uses. Pure; every result is
 * normalized (topics sorted, partitions ascending and unique, no empty entries) so results compare with deepEqual.
 */

type PartitionSets = Map<string, Set<number>>

function toSets(list: readonly TopicPartitions[]): PartitionSets {
  const sets: PartitionSets = new Map()
  for (const { topic, partitions } of list) {
    let set = sets.get(topic)
    if (!set) {
      set = new Set()
      sets.set(topic, set)
    }
    for (const partition of partitions) set.add(partition)
  }
  return sets
}

function fromSets(sets: PartitionSets): TopicPartitions[] {
  const result: TopicPartitions[] = []
  for (const topic of [...sets.keys()].sort()) {
    const partitions = [...(sets.get(topic) ?? [])].sort((a, b) => a - b)
    if (partitions.length > 0) result.push({ topic, partitions })
  }
  return result
}

/** Merges duplicate topics, sorts, drops duplicates and empty topics. */
export function normalizePartitions(list: readonly TopicPartitions[]): TopicPartitions[] {
  return fromSets(toSets(list))
}

/** Partitions in `a` that are not in `b`. */
export function subtractPartitions(a: readonly TopicPartitions[], b: readonly TopicPartitions[]): TopicPartitions[] {
  const remove = toSets(b)
  const sets = toSets(a)
  for (const [topic, set] of sets) {
    const gone = remove.get(topic)
    if (gone) for (const partition of gone) set.delete(partition)
  }
  return fromSets(sets)
}

/** Partitions in both `a` and `b`. */
export function intersectPartitions(a: readonly TopicPartitions[], b: readonly TopicPartitions[]): TopicPartitions[] {
  const other = toSets(b)
  const sets = toSets(a)
  for (const [topic, set] of sets) {
    const keep = other.get(topic)
    for (const partition of set) if (!keep?.has(partition)) set.delete(partition)
  }
  return fromSets(sets)
}

export function countPartitions(list: readonly TopicPartitions[]): number {
  let count = 0
  for (const { partitions } of normalizePartitions(list)) count += partitions.length
  return count
}

export interface AssignmentDiff {
  /** In `next` only: the member starts these. */
  added: TopicPartitions[]
  /** In `previous` only: the member gives these away (onRevoke). */
  revoked: TopicPartitions[]
  /** In both: their tasks keep running through the rebalance. */
  retained: TopicPartitions[]
}

/** What a rebalance changes for one member: the runtime revokes exactly `revoked` and never touches `retained`. */
export function diffAssignment(previous: readonly TopicPartitions[], next: readonly TopicPartitions[]): AssignmentDiff {
  return {
    added: subtractPartitions(next, previous),
    revoked: subtractPartitions(previous, next),
    retained: intersectPartitions(previous, next)
  }
}

/** `topic-partition` labels for messages, e.g. `orders-0, orders-3`. */
export function formatPartitions(list: readonly TopicPartitions[]): string {
  const labels: string[] = []
  for (const { topic, partitions } of normalizePartitions(list))
    for (const p of partitions) labels.push(`${topic}-${p}`)
  return labels.length > 0 ? labels.join(', ') : '(none)'
}
