/**
 * The topics of an app, by role, as the operations commands need them: `topics create` creates the inputs, outputs
 * and dead-letter topics (the app creates its internal topics itself), `reset` rewinds the inputs and deletes the internal ones.
 * Pure: the cluster's topic list comes in for the pattern sources.
 */
import { type ErrorHandlerConfig, isInternalTopicOf, matchesWhole, type TopologyPlan } from '../topology/index.ts'

export interface AppTopics {
  /** Topics the app reads that it does not own: named sources, and existing topics its source patterns match. */
  inputs: string[]
  /** Fixed topics its sinks write that are neither inputs nor internal. */
  outputs: string[]
  /** Its repartition and changelog topics (`<applicationId>-<name>-repartition|changelog`). */
  internal: string[]
  /** Topics failed records go to: the error handlers' (`ErrorHandlers.deadLetter`) and `shareGroup.deadLetterTopic`. */
  deadLetters: string[]
  /** Source patterns: the topics they will match cannot be created for them. */
  patterns: RegExp[]
}

export function appTopics(
  plan: TopologyPlan,
  existingTopics: readonly string[] = [],
  errorHandlers: ErrorHandlerConfig = {},
  otherDeadLetterTopics: readonly (string | undefined)[] = []
): AppTopics {
  const internal = new Set([...plan.repartitionTopics.keys(), ...plan.changelogTopics.keys()])
  const patterns = plan.subtopologies.flatMap((sub) => sub.sourcePatterns)
  const inputs = new Set<string>()
  for (const sub of plan.subtopologies)
    for (const topic of sub.sourceTopics) if (!internal.has(topic)) inputs.add(topic)
  for (const topic of existingTopics) {
    if (isInternalTopicOf(plan.applicationId, topic)) continue
    if (patterns.some((pattern) => matchesWhole(pattern, topic))) inputs.add(topic)
  }
  const outputs = new Set<string>()
  for (const sub of plan.subtopologies) {
    for (const topic of sub.sinkTopics) if (!internal.has(topic) && !inputs.has(topic)) outputs.add(topic)
  }
  const deadLetters = new Set<string>()
  for (const topic of [...Object.values(errorHandlers).map((h) => h?.deadLetterTopic), ...otherDeadLetterTopics]) {
    if (topic !== undefined && !inputs.has(topic) && !outputs.has(topic)) deadLetters.add(topic)
  }
  return {
    inputs: [...inputs].sort(),
    outputs: [...outputs].sort(),
    internal: [...internal].sort(),
    deadLetters: [...deadLetters].sort(),
    patterns
  }
}
