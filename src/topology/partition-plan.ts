import { TaskId } from '../task-id.ts'
import { checkCopartitioning } from './copartitioning.ts'
import { isInternalTopicOf } from './internal-topics.ts'
import { TopologyError } from './topology-errors.ts'
import type { TopologyPlan } from './topology-plan.ts'
import { matchesWhole } from './topology-plan.ts'

/** Partition counts and tasks of a planned topology on a given cluster. */
export interface PartitionPlan {
  /** Every source topic per sub-topology, pattern matches included. */
  readonly sourceTopics: ReadonlyMap<number, readonly string[]>
  /** Partition count per repartition topic (full name): create them with these counts. */
  readonly repartitionTopics: ReadonlyMap<string, number>
  /** Number of tasks (= partitions of its inputs) per sub-topology; 0 when a pattern matches no topic yet. */
  readonly partitionsPerSubtopology: ReadonlyMap<number, number>
  readonly tasks: readonly TaskId[]
}

/**
 * Works out, from the partition counts of the cluster's topics, how many partitions each repartition topic needs
 * and how many tasks each sub-topology has, and checks co-partitioning. `topicPartitions` holds at least every
 * external source topic (and every topic a pattern might match); internal topics in it are ignored.
 *
 * A repartition topic without a user-chosen count takes the count of the topics it is read together with, or if
 * there are none, the largest task count of the sub-topologies writing it (as Kafka Streams does). Sub-topologies are
 * resolved writers first, so chains of repartition topics work.
 */
export function planPartitions(plan: TopologyPlan, topicPartitions: ReadonlyMap<string, number>): PartitionPlan {
  const external = new Map([...topicPartitions].filter(([topic]) => !isInternalTopicOf(plan.applicationId, topic)))
  const sourceTopics = new Map<number, string[]>()
  for (const sub of plan.subtopologies) {
    const matched = [...external.keys()].filter(
      (topic) => !sub.sourceTopics.includes(topic) && sub.sourcePatterns.some((pattern) => matchesWhole(pattern, topic))
    )
    sourceTopics.set(sub.id, [...sub.sourceTopics, ...matched.sort()])
  }

  const repartitionCounts = new Map<string, number>()
  const partitionsPerSubtopology = new Map<number, number>()
  // External topics and sized repartition topics: a sub-topology reading one takes its count from it.
  const fixedInputs = (id: number) =>
    sourceTopics.get(id)!.some((topic) => {
      const repartition = plan.repartitionTopics.get(topic)
      return repartition === undefined || repartition.partitions !== undefined
    })
  for (const sub of writersFirst(plan, fixedInputs)) {
    const topics = sourceTopics.get(sub.id)!
    const fixed = new Map<string, number>()
    const flexible: string[] = []
    for (const topic of topics) {
      const repartition = plan.repartitionTopics.get(topic)
      if (repartition === undefined) {
        const count = external.get(topic)
        if (count !== undefined) fixed.set(topic, count)
        else checkCopartitioning([{ subtopology: sub.id, topics: [topic] }], external) // throws: the topic is missing
      } else if (repartition.partitions !== undefined) fixed.set(topic, repartition.partitions)
      else flexible.push(topic)
    }
    checkCopartitioning([{ subtopology: sub.id, topics: [...fixed.keys()] }], fixed)
    let count = fixed.size > 0 ? fixed.values().next().value! : 0
    if (fixed.size === 0) {
      for (const topic of flexible) {
        for (const writer of plan.repartitionTopics.get(topic)!.writers) {
          count = Math.max(count, partitionsPerSubtopology.get(writer) ?? 0)
        }
      }
    }
    for (const topic of flexible) repartitionCounts.set(topic, count)
    for (const [topic, fixedCount] of fixed)
      if (plan.repartitionTopics.has(topic)) repartitionCounts.set(topic, fixedCount)
    partitionsPerSubtopology.set(sub.id, count)
  }
  for (const [name, topic] of plan.repartitionTopics) {
    if (repartitionCounts.get(name) === 0) {
      throw new TopologyError(
        `cannot size repartition topic ${topic.shortName}: the sub-topologies writing it have no input partitions yet`
      )
    }
  }

  const tasks: TaskId[] = []
  for (const sub of plan.subtopologies) {
    for (let p = 0; p < partitionsPerSubtopology.get(sub.id)!; p++) tasks.push(new TaskId(sub.id, p))
  }
  return { sourceTopics, repartitionTopics: repartitionCounts, partitionsPerSubtopology, tasks }
}

/**
 * Sub-topologies ordered so every writer of a repartition topic comes before its reader, unless the reader has
 * inputs of a known count (external topics, sized repartition topics), which then size its repartition topics: so a
 * cycle through such a sub-topology (a foreign-key join's subscription and response topics) is fine.
 */
function writersFirst(plan: TopologyPlan, hasFixedInputs: (id: number) => boolean): TopologyPlan['subtopologies'] {
  const ordered: TopologyPlan['subtopologies'][number][] = []
  const state = new Map<number, 'visiting' | 'done'>()
  const visit = (id: number): void => {
    if (state.get(id) === 'done') return
    if (state.get(id) === 'visiting') {
      throw new TopologyError(
        `sub-topology ${id} is part of a cycle through repartition topics; its partition counts cannot be derived`
      )
    }
    state.set(id, 'visiting')
    const sub = plan.subtopologies[id]!
    for (const topic of hasFixedInputs(id) ? [] : sub.repartitionSourceTopics) {
      const repartition = plan.repartitionTopics.get(topic)!
      if (repartition.partitions === undefined)
        for (const writer of repartition.writers) if (writer !== id) visit(writer)
    }
    state.set(id, 'done')
    ordered.push(sub)
  }
  for (const sub of plan.subtopologies) visit(sub.id)
  return ordered
}
