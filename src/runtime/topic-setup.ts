/**
 * Before an app joins its group: its source topics must exist with co-partitioned partition counts, and its
 * internal topics (repartition, changelog) are created with the counts the topology needs. Every problem is an
 * error at start that names the topic, never a stall later.
 */
import type { KafkaAdmin, NewTopic } from '../kafka/admin.ts'
import { UnknownTopicError } from '../kafka/errors.ts'
import { isInternalTopicOf, type PartitionPlan, planPartitions, type TopologyPlan } from '../topology/index.ts'
import { MissingSourceTopicError, TopologyError } from '../topology/topology-errors.ts'
import { matchesWhole } from '../topology/topology-plan.ts'

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
