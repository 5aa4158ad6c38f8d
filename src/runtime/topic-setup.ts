/**
 * Before an app joins its group: its source topics must exist with co-partitioned partition counts, so must the
 * fixed topics its sinks write, and its internal topics (repartition, changelog) are created with the counts the
 * topology needs. Every problem is an error at start that names the topic, never a stall or a failed write later.
 */
import type { KafkaAdmin, NewTopic } from '../kafka/index.ts'
import { UnknownTopicError } from '../kafka/index.ts'
import {
  isInternalTopicOf,
  type MissingSinkTopic,
  MissingSinkTopicError,
  MissingSourceTopicError,
  matchesWhole,
  type PartitionPlan,
  planPartitions,
  TopologyError,
  type TopologyPlan
} from '../topology/index.ts'

export interface PreparedTopics {
  partitionPlan: PartitionPlan
  /** Partition count of every topic the app reads or writes by name. */
  partitionCounts: Map<string, number>
}

export async function prepareTopics(
  admin: KafkaAdmin,
  plan: TopologyPlan,
  replicationFactor: number
): Promise<PreparedTopics> {
  const external = new Set<string>()
  for (const sub of plan.subtopologies) {
    for (const topic of sub.sourceTopics) if (!plan.repartitionTopics.has(topic)) external.add(topic)
  }
  // Pattern sources read the topics that match when the app starts; a topic created later is read after a restart.
  const patterns = plan.subtopologies.flatMap((sub) => sub.sourcePatterns)
  if (patterns.length > 0) {
    const matching = (await admin.listTopics()).filter(
      (topic) => !isInternalTopicOf(plan.applicationId, topic) && patterns.some((p) => matchesWhole(p, topic))
    )
    if (matching.length === 0) {
      throw new TopologyError(
        `no topic matches the source pattern${patterns.length > 1 ? 's' : ''} ${patterns.join(', ')}`
      )
    }
    for (const topic of matching) external.add(topic)
  }
  const partitionCounts = new Map<string, number>()
  for (const topic of external) {
    try {
      const [description] = await admin.describeTopics([topic])
      partitionCounts.set(topic, description!.partitions.length)
    } catch (error) {
      if (error instanceof UnknownTopicError) {
        const subtopology = plan.subtopologyReading(topic)?.id ?? -1
        throw new MissingSourceTopicError(subtopology, [topic])
      }
      throw error
    }
  }

  const partitionPlan = planPartitions(plan, partitionCounts)
  await checkSinkTopics(admin, plan, partitionPlan, partitionCounts)
  const replication = replicationFactor === -1 ? undefined : replicationFactor
  const internal: NewTopic[] = [...partitionPlan.repartitionTopics].map(([name, partitions]) => ({
    name,
    partitions,
    replicationFactor: replication,
    // Repartition records are consumed once; Kafka Streams purges them after commit, retention bounds them here.
    configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * 24 * 3_600_000) }
  }))
  for (const changelog of plan.changelogTopics.values()) {
    internal.push({
      name: changelog.name,
      partitions: partitionPlan.partitionsPerSubtopology.get(changelog.subtopology) ?? 1,
      replicationFactor: replication,
      configs: { 'cleanup.policy': 'compact', ...changelog.config }
    })
  }
  if (internal.length > 0) await admin.ensureTopics(internal)
  for (const topic of internal) partitionCounts.set(topic.name, topic.partitions)
  return { partitionPlan, partitionCounts }
}

/**
 * The fixed topics sinks write must exist (Streamlane creates only its internal topics, and its producer does not
 * auto-create). Checked here, a missing or misspelt one is one error at start naming every such sink and topic,
 * instead of a failed write after the first records were processed. A topic chosen per record by a topic extractor
 * can only be checked when it is written (a `ProductionError`). Adds their partition counts, for sink partitioners.
 */
async function checkSinkTopics(
  admin: KafkaAdmin,
  plan: TopologyPlan,
  partitionPlan: PartitionPlan,
  partitionCounts: Map<string, number>
): Promise<void> {
  const sinksByTopic = new Map<string, { sink: string; subtopology: number }[]>()
  for (const sub of plan.subtopologies) {
    for (const sink of sub.sinks) {
      if (typeof sink.topic !== 'string') continue
      const topic = plan.resolveTopic(sink.topic)
      if (partitionCounts.has(topic) || plan.repartitionTopics.has(topic) || plan.changelogTopics.has(topic)) continue
      sinksByTopic.set(topic, [...(sinksByTopic.get(topic) ?? []), { sink: sink.name, subtopology: sub.id }])
    }
  }
  const missing: MissingSinkTopic[] = []
  await Promise.all(
    [...sinksByTopic].map(async ([topic, sinks]) => {
      try {
        const [description] = await admin.describeTopics([topic])
        partitionCounts.set(topic, description!.partitions.length)
      } catch (error) {
        if (!(error instanceof UnknownTopicError)) throw error
        for (const { sink, subtopology } of sinks) {
          const partitions = partitionPlan.partitionsPerSubtopology.get(subtopology) ?? 1
          missing.push({ sink, topic, subtopology, partitions })
        }
      }
    })
  )
  if (missing.length === 0) return
  missing.sort((a, b) => a.subtopology - b.subtopology || a.sink.localeCompare(b.sink))
  throw new MissingSinkTopicError(missing)
}
