import { compareTaskIds, formatTaskId, type TaskIdText } from '../task-id.ts'
import { AssignmentInputError, CoPartitionError, SourceTopicMissingError } from './errors.ts'

/** Partitions of one topic, the shape the Kafka consumer protocol uses for assignments. */
export interface TopicPartitions {
  topic: string
  partitions: number[]
}

/**
 * A sub-topology as the assignor needs it. `stateful` says whether its tasks have logged stores: only stateful tasks
 * get standbys and warm-ups, and only for them does "caught up" depend on reported lags. It is required on purpose:
 * guessing wrong either leaves stateless tasks waiting forever for a warm-up that never reports a lag, or moves
 * stateful tasks to members that must restore first (the stall Streamlane exists to avoid).
 */
export interface SubtopologySource {
  subtopologyId: number
  sourceTopics: readonly string[]
  stateful: boolean
}

export interface SubtopologySpec extends SubtopologySource {
  /** Partition count shared by all source topics (co-partitioning). */
  partitions: number
}

/** One task: partition `partition` of every source topic of its sub-topology. */
export interface TaskSpec {
  id: TaskIdText
  subtopologyId: number
  partition: number
  sourceTopics: readonly string[]
  stateful: boolean
}

/**
 * Fills in each sub-topology's partition count from cluster metadata, checking co-partitioning: all source topics of
 * a sub-topology must exist and have the same count, else the error names the sub-topology and every topic's count.
 */
export function resolveSubtopologyPartitions(
  subtopologies: readonly SubtopologySource[],
  partitionCountOf: (topic: string) => number | undefined
): SubtopologySpec[] {
  return subtopologies.map((subtopology) => {
    const counts = new Map<string, number>()
    const missing: string[] = []
    for (const topic of [...new Set(subtopology.sourceTopics)].sort()) {
      const count = partitionCountOf(topic)
      if (count === undefined) missing.push(topic)
      else counts.set(topic, count)
    }
    if (missing.length > 0) throw new SourceTopicMissingError(subtopology.subtopologyId, missing)
    const distinct = new Set(counts.values())
    if (distinct.size > 1) throw new CoPartitionError(subtopology.subtopologyId, counts)
    const [partitions = 0] = distinct
    return { ...subtopology, partitions }
  })
}

/**
 * Tasks of a topology, sorted by task id. A source topic may belong to one sub-topology only: otherwise one partition
 * would need two owners, which the consumer protocol cannot express.
 */
export function deriveTasks(subtopologies: readonly SubtopologySpec[]): TaskSpec[] {
  const seenIds = new Set<number>()
  const topicOwner = new Map<string, number>()
  const tasks: TaskSpec[] = []
  for (const subtopology of subtopologies) {
    const { subtopologyId, partitions, stateful } = subtopology
    if (!Number.isSafeInteger(subtopologyId) || subtopologyId < 0) {
      throw new AssignmentInputError(`sub-topology id ${subtopologyId} must be a non-negative integer`)
    }
    if (seenIds.has(subtopologyId)) throw new AssignmentInputError(`sub-topology id ${subtopologyId} is used twice`)
    seenIds.add(subtopologyId)
    if (!Number.isSafeInteger(partitions) || partitions < 0) {
      throw new AssignmentInputError(`sub-topology ${subtopologyId} has invalid partition count ${partitions}`)
    }
    if (subtopology.sourceTopics.length === 0) {
      throw new AssignmentInputError(`sub-topology ${subtopologyId} has no source topics`)
    }
    const sourceTopics = [...new Set(subtopology.sourceTopics)].sort()
    for (const topic of sourceTopics) {
      const other = topicOwner.get(topic)
      if (other !== undefined) {
        throw new AssignmentInputError(`topic ${topic} is a source of sub-topologies ${other} and ${subtopologyId}`)
      }
      topicOwner.set(topic, subtopologyId)
    }
    for (let partition = 0; partition < partitions; partition++) {
      tasks.push({ id: formatTaskId(subtopologyId, partition), subtopologyId, partition, sourceTopics, stateful })
    }
  }
  return tasks.sort((a, b) => compareTaskIds(a.id, b.id))
}

/** The input partitions of a set of tasks, grouped by topic, topics and partitions sorted. */
export function partitionsOfTasks(tasks: Iterable<TaskSpec>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>()
  for (const task of tasks) {
    for (const topic of task.sourceTopics) {
      let partitions = byTopic.get(topic)
      if (!partitions) {
        partitions = []
        byTopic.set(topic, partitions)
      }
      partitions.push(task.partition)
    }
  }
  return [...byTopic.keys()]
    .sort()
    .map((topic) => ({ topic, partitions: [...new Set(byTopic.get(topic))].sort((a, b) => a - b) }))
}
