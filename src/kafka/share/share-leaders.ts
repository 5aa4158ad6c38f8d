/**
 * Where a share consumer's partitions live: topic names by id (the share protocol names topics by id) and each
 * partition's leader broker, from cluster metadata that is loaded again once a request finds it stale.
 */
import type { Base, ClusterMetadata } from '@platformatic/kafka'
import type { ResolvedConnectionOptions } from '../connection.ts'
import { loadTopicMetadata } from '../library.ts'
import { sessionPartitionKey } from './share-session.ts'

export class ShareLeaders {
  readonly #base: Base
  readonly #topics: string[]
  readonly #resolved: ResolvedConnectionOptions
  #metadata: ClusterMetadata | undefined
  /** Set when a request found leaders or topic ids moved; the next poll loads the metadata again. */
  stale = true

  constructor(base: Base, topics: string[], resolved: ResolvedConnectionOptions) {
    this.#base = base
    this.#topics = topics
    this.#resolved = resolved
  }

  get loaded(): boolean {
    return this.#metadata !== undefined
  }

  async refresh(): Promise<void> {
    const deadline = Date.now() + this.#resolved.requestTimeoutMs
    this.#metadata = await loadTopicMetadata(this.#base, this.#topics, this.#resolved, deadline)
    this.stale = false
  }

  topicName(topicId: string): string | undefined {
    for (const [name, info] of this.#metadata?.topics ?? []) if (info.id === topicId) return name
    return undefined
  }

  /** Whether some of `topicIds` are not in the metadata (a topic created or recreated since it was loaded). */
  anyUnknown(topicIds: Iterable<string>): boolean {
    for (const topicId of topicIds) if (!this.topicName(topicId)) return true
    return false
  }

  /** The leader broker id of a partition, or -1 when the metadata does not say. */
  leaderOf(topicId: string, partition: number): number {
    const name = this.topicName(topicId)
    return name ? (this.#metadata?.topics.get(name)?.partitions[partition]?.leader ?? -1) : -1
  }

  broker(id: number): { host: string; port: number } | undefined {
    return this.#metadata?.brokers.get(id)
  }

  /** Session partitions (`topicId:partition`) grouped by leader broker id; those without a known leader left out. */
  byLeader(partitions: Iterable<[topicId: string, partition: number]>): Map<number, Set<string>> {
    const byLeader = new Map<number, Set<string>>()
    for (const [topicId, partition] of partitions) {
      const leader = this.leaderOf(topicId, partition)
      if (leader < 0) continue
      let set = byLeader.get(leader)
      if (!set) {
        set = new Set()
        byLeader.set(leader, set)
      }
      set.add(sessionPartitionKey(topicId, partition))
    }
    return byLeader
  }
}
