import { decodeAssignmentInfo, decodeSubscriptionInfo, parseTaskId } from '../../assignment/index.ts'
import { STREAMLANE_PROTOCOL_NAME } from '../../kafka/group/index.ts'
import type { TaskCount } from './types.ts'

/**
 * How many members of a group can hold work at once: the cap on useful replicas.
 *
 * A Streamlane app's unit of work is a task (sub-topology x partition). A sub-topology has as many tasks as its source
 * topics have partitions (they are co-partitioned: a `merge` of two 6-partition topics, or a sub-topology reading a
 * 6-partition repartition topic, is 6 tasks, not 12), and the tasks of all sub-topologies together are spread over the
 * members by count (`src/assignment`: every member gets floor(T/n) or ceil(T/n) tasks, whatever their sub-topology).
 * So with T tasks in all, T members each run one and a member beyond T runs nothing: the cap is the total number of
 * active tasks, the sum over sub-topologies of each one's task count. The largest sub-topology alone would be too low
 * (two independent 6-task sub-topologies keep 12 members busy), the sum of every source topic's partitions too high
 * (the two topics of a merge share their tasks).
 *
 * The scaler runs no topology, so it learns the tasks from the group itself: every Streamlane member's assignment
 * userData lists its active, standby and warm-up tasks, and its subscription userData the tasks it was running when it
 * joined (a task withheld for a cooperative handover is in nobody's assignment for one generation, but still in its
 * old owner's subscription). A sub-topology's task count is its highest partition seen + 1.
 */

/** Tasks per sub-topology from the members' Streamlane userData; null when the group carries none (or none readable). */
export function tasksFromMembers(
  protocol: string,
  members: readonly { assignmentUserData?: Uint8Array; subscriptionUserData?: Uint8Array }[]
): Map<number, number> | null {
  // The coordinator reports the protocol and the members' userData only while the group is Stable.
  if (protocol !== STREAMLANE_PROTOCOL_NAME) return null
  const perSubtopology = new Map<number, number>()
  let assignments = 0
  const see = (task: string) => {
    const { subtopologyId, partition } = parseTaskId(task)
    perSubtopology.set(subtopologyId, Math.max(perSubtopology.get(subtopologyId) ?? 0, partition + 1))
  }
  for (const member of members) {
    if (member.assignmentUserData && member.assignmentUserData.length > 0) {
      try {
        const info = decodeAssignmentInfo(member.assignmentUserData)
        // An assignment with an error code (a missing or mismatched source topic) carries no tasks.
        if (info.errorCode === 0) {
          assignments++
          for (const task of [...info.activeTasks, ...info.standbyTasks, ...info.warmupTasks]) see(task)
        }
      } catch {
        // A newer Streamlane release's layout, or a foreign assignor under our name: this member says nothing.
      }
    }
    if (member.subscriptionUserData && member.subscriptionUserData.length > 0) {
      try {
        for (const task of decodeSubscriptionInfo(member.subscriptionUserData).ownedActive) see(task)
      } catch {
        // As above.
      }
    }
  }
  return assignments > 0 && perSubtopology.size > 0 ? perSubtopology : null
}

/** The cap for a snapshot: the tasks when the members told them, else the measured partitions. */
export function taskCountOf(perSubtopology: ReadonlyMap<number, number> | null, partitions: number): TaskCount {
  if (perSubtopology === null) return { count: partitions, basis: 'partitions' }
  return {
    count: [...perSubtopology.values()].reduce((sum, n) => sum + n, 0),
    basis: 'assignment',
    subtopologies: Object.fromEntries([...perSubtopology].sort(([a], [b]) => a - b).map(([id, n]) => [String(id), n]))
  }
}
