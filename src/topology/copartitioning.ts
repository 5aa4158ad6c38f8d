import { CopartitioningError, MissingSourceTopicError } from './topology-errors.ts'

/** Topics one task reads together: partition p of each goes to task `<subtopology>_<p>`. */
export interface CopartitionGroup {
  readonly subtopology: number
  readonly topics: readonly string[]
}

/**
 * Checks that the topics of each group have equal partition counts and exist. Pure, so the runtime can run it on
 * the metadata it fetched at start and tests can run it on a table. Throws `MissingSourceTopicError` or
 * `CopartitioningError`, which name every topic with its count.
 */
export function checkCopartitioning(
  groups: readonly CopartitionGroup[],
  partitionCounts: ReadonlyMap<string, number> | Readonly<Record<string, number>>
): void {
  const countOf = (topic: string): number | undefined =>
    partitionCounts instanceof Map ? partitionCounts.get(topic) : (partitionCounts as Record<string, number>)[topic]
  for (const group of groups) {
    const missing = group.topics.filter((topic) => countOf(topic) === undefined)
    if (missing.length > 0) throw new MissingSourceTopicError(group.subtopology, missing)
    const counts = new Map(group.topics.map((topic) => [topic, countOf(topic)!]))
    if (new Set(counts.values()).size > 1) throw new CopartitioningError(group.subtopology, counts)
  }
}
