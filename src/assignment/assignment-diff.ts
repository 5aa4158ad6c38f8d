import { sortTaskIds, type TaskIdText } from '../task-id.ts'
import { topicPartitionKey } from '../topic-partition.ts'
import type { TopicPartitions } from './tasks.ts'

/*
 * What changes for one member between two assignments: the runtime's to-do list after a rebalance. Standby and
 * warm-up are one role here, because to the runtime both are "restore and keep following the changelog".
 */

export interface TaskRoles {
  activeTasks: Iterable<TaskIdText>
  standbyTasks?: Iterable<TaskIdText>
  warmupTasks?: Iterable<TaskIdText>
}

export interface AssignmentDiff {
  /** Active before, not active now: commit, then close (or demote). Includes `demoted`. */
  revokedActive: TaskIdText[]
  /** Active now, not before. Includes `promoted`. */
  addedActive: TaskIdText[]
  keptActive: TaskIdText[]
  /** Standby or warm-up before, active now: the store is already here, only the remaining delta is restored. */
  promoted: TaskIdText[]
  /** Active before, standby or warm-up now: stop processing, keep the store following the changelog. */
  demoted: TaskIdText[]
  /** Standby or warm-up before, no role now: close, and let the state cleaner remove its directory later. */
  revokedStandby: TaskIdText[]
  /** Standby or warm-up now, no role before: start restoring. */
  addedStandby: TaskIdText[]
}

function replicas(roles: TaskRoles): Set<TaskIdText> {
  return new Set([...(roles.standbyTasks ?? []), ...(roles.warmupTasks ?? [])])
}

export function diffAssignment(previous: TaskRoles, next: TaskRoles): AssignmentDiff {
  const beforeActive = new Set(previous.activeTasks)
  const afterActive = new Set(next.activeTasks)
  const beforeReplica = replicas(previous)
  const afterReplica = replicas(next)
  const only = (set: Iterable<TaskIdText>, test: (task: TaskIdText) => boolean) => sortTaskIds([...set].filter(test))
  return {
    revokedActive: only(beforeActive, (task) => !afterActive.has(task)),
    addedActive: only(afterActive, (task) => !beforeActive.has(task)),
    keptActive: only(afterActive, (task) => beforeActive.has(task)),
    promoted: only(afterActive, (task) => beforeReplica.has(task) && !beforeActive.has(task)),
    demoted: only(afterReplica, (task) => beforeActive.has(task) && !afterActive.has(task)),
    revokedStandby: only(beforeReplica, (task) => !afterReplica.has(task) && !afterActive.has(task)),
    addedStandby: only(afterReplica, (task) => !beforeReplica.has(task) && !beforeActive.has(task))
  }
}

/** Tasks the member must commit and give up as active before the new assignment takes effect. */
export function revokedTasks(previous: TaskRoles, next: TaskRoles): TaskIdText[] {
  return diffAssignment(previous, next).revokedActive
}

/** Partitions in `previous` that are not in `next`, grouped by topic (sorted). */
export function revokedPartitions(
  previous: readonly TopicPartitions[],
  next: readonly TopicPartitions[]
): TopicPartitions[] {
  const kept = new Set(next.flatMap(({ topic, partitions }) => partitions.map((p) => topicPartitionKey(topic, p))))
  const revoked = new Map<string, Set<number>>()
  for (const { topic, partitions } of previous) {
    for (const partition of partitions) {
      if (kept.has(topicPartitionKey(topic, partition))) continue
      const set = revoked.get(topic) ?? new Set()
      set.add(partition)
      revoked.set(topic, set)
    }
  }
  return [...revoked.keys()]
    .sort()
    .map((topic) => ({ topic, partitions: [...revoked.get(topic)!].sort((a, b) => a - b) }))
}
