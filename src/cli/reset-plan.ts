/**
 * What `streamlane reset` does, computed before anything is changed so that `--dry-run` prints exactly what a real
 * run then does. Like Kafka Streams' application reset tool: rewind the app's input offsets (to the earliest offset
 * or to a time), delete its internal topics, and, unlike that tool, wipe the local state too (Kafka Streams leaves
 * it to `KafkaStreams#cleanUp()`). Pure: what exists on the cluster and on disk comes in.
 */
import type { AppTopics } from './app-topics.ts'

export type ResetTarget = { kind: 'earliest' } | { kind: 'datetime'; timestampMs: number }

export interface ResetFacts {
  applicationId: string
  topics: AppTopics
  existingTopics: readonly string[]
  target: ResetTarget
  /** Per input topic that exists: partition -> the offset the target names there. */
  targetOffsets: ReadonlyMap<string, ReadonlyMap<number, bigint>>
  /** The group's committed offsets of the input topics; -1n (or absent) for a partition never committed. */
  committed: readonly { topic: string; partition: number; offset: bigint }[]
  /** `<stateDir>/<applicationId>` and whether it exists. */
  stateDir: { path: string; exists: boolean }
}

export interface OffsetReset {
  topic: string
  partition: number
  /** What the group has committed now; null when nothing. */
  from: bigint | null
  to: bigint
}

export interface ResetPlan {
  applicationId: string
  target: ResetTarget
  offsets: OffsetReset[]
  /** Input topics that do not exist: nothing to rewind. */
  missingInputs: string[]
  deleteTopics: string[]
  /** Existing topics named like this app's internal topics that its topology does not name: left alone. */
  otherInternalLooking: string[]
  wipeStateDir: string | null
}

export function planReset(facts: ResetFacts): ResetPlan {
  const existing = new Set(facts.existingTopics)
  const committed = new Map(facts.committed.map((c) => [`${c.topic}\0${c.partition}`, c.offset]))
  const offsets: OffsetReset[] = []
  const missingInputs: string[] = []
  for (const topic of facts.topics.inputs) {
    const targets = facts.targetOffsets.get(topic)
    if (!existing.has(topic) || !targets) {
      missingInputs.push(topic)
      continue
    }
    for (const [partition, to] of [...targets].sort(([a], [b]) => a - b)) {
      const now = committed.get(`${topic}\0${partition}`)
      offsets.push({ topic, partition, from: now === undefined || now < 0n ? null : now, to })
    }
  }
  const internal = new Set(facts.topics.internal)
  const prefix = `${facts.applicationId}-`
  return {
    applicationId: facts.applicationId,
    target: facts.target,
    offsets,
    missingInputs,
    deleteTopics: facts.topics.internal.filter((topic) => existing.has(topic)),
    otherInternalLooking: [...existing]
      .filter((t) => t.startsWith(prefix) && /-(changelog|repartition)$/.test(t) && !internal.has(t))
      .sort(),
    wipeStateDir: facts.stateDir.exists ? facts.stateDir.path : null
  }
}

/** The plan as the lines `reset` prints, before it acts (or instead, with `--dry-run`). */
export function describeResetPlan(plan: ResetPlan, dryRun: boolean): string[] {
  const lines = [
    `${dryRun ? 'dry run: would reset' : 'resetting'} application ${plan.applicationId} (consumer group ${plan.applicationId})`
  ]
  const target =
    plan.target.kind === 'earliest' ? 'the earliest offset' : new Date(plan.target.timestampMs).toISOString()
  if (plan.offsets.length > 0) {
    lines.push(`${dryRun ? 'would move' : 'moving'} the group's input offsets to ${target}:`)
    for (const o of plan.offsets) {
      lines.push(`  ${o.topic} partition ${o.partition}: ${o.from === null ? 'none committed' : o.from} -> ${o.to}`)
    }
  } else {
    lines.push('no input offsets to move')
  }
  for (const topic of plan.missingInputs) lines.push(`  input topic ${topic} does not exist: nothing to rewind`)
  if (plan.deleteTopics.length > 0) {
    lines.push(`${dryRun ? 'would delete' : 'deleting'} internal topics:`)
    for (const topic of plan.deleteTopics) lines.push(`  ${topic}`)
  } else {
    lines.push('no internal topics to delete')
  }
  if (plan.otherInternalLooking.length > 0) {
    lines.push(`left alone, not internal topics of this topology: ${plan.otherInternalLooking.join(', ')}`)
  }
  lines.push(
    plan.wipeStateDir === null
      ? 'no local state directory to wipe'
      : `${dryRun ? 'would wipe' : 'wiping'} local state directory ${plan.wipeStateDir}`
  )
  return lines
}
