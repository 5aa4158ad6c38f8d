import type { SignalAdmin } from '../../../src/autoscale/signals/admin-port.ts'
import { UnknownTopicError } from '../../../src/kafka/errors.ts'

/** A cluster in memory, shaped like the admin's answers; tests mutate it between reads. */
export interface FakeCluster {
  topics: Record<string, { start: number[]; end: number[] }>
  groups: Record<
    string,
    {
      state: string
      /** The assignor the group agreed on; `range` when absent (`streamlane` for Streamlane apps). */
      protocol?: string
      members?: {
        memberId: string
        assignment: { topic: string; partitions: number[] }[]
        assignmentUserData?: Uint8Array
        subscriptionUserData?: Uint8Array
      }[]
      commits?: Record<string, Record<number, number>>
    }
  >
  /** When set, every call fails with it (an unreachable cluster). */
  failWith?: Error
  /** describeGroups of an unknown group throws (newer brokers) instead of answering Dead. */
  groupNotFoundThrows?: boolean
  calls: number
}

export function fakeCluster(partial: Partial<FakeCluster> = {}): FakeCluster {
  return { topics: {}, groups: {}, calls: 0, ...partial }
}

export function fakeAdmin(cluster: FakeCluster): SignalAdmin & { closed: boolean } {
  const check = () => {
    cluster.calls++
    if (cluster.failWith) throw cluster.failWith
  }
  const topicOf = (name: string) => {
    const topic = cluster.topics[name]
    if (!topic) throw new UnknownTopicError(name)
    return topic
  }
  return {
    closed: false,
    async describeTopics(names) {
      check()
      return names.map((name) => ({
        name,
        partitions: topicOf(name).end.map((_, partition) => ({ partition, leader: 1, replicas: [1], isr: [1] }))
      }))
    },
    async listOffsets(requests, at) {
      check()
      const result = new Map<string, Map<number, bigint>>()
      for (const { topic, partitions } of requests) {
        const t = topicOf(topic)
        const offsets = new Map<number, bigint>()
        for (const p of partitions ?? t.end.map((_, i) => i)) {
          offsets.set(p, BigInt((at === 'earliest' ? t.start : t.end)[p] ?? 0))
        }
        result.set(topic, offsets)
      }
      return result
    },
    async describeGroups(ids) {
      check()
      return ids.map((groupId) => {
        const group = cluster.groups[groupId]
        if (!group && cluster.groupNotFoundThrows) {
          throw Object.assign(new Error(`group ${groupId}: GROUP_ID_NOT_FOUND`), { kafkaCode: 'GROUP_ID_NOT_FOUND' })
        }
        return {
          groupId,
          state: group?.state ?? 'Dead',
          protocolType: 'consumer',
          protocol: group?.protocol ?? 'range',
          members: (group?.members ?? []).map((m) => ({ ...m, clientId: 'c', host: '/127.0.0.1' }))
        }
      })
    },
    async fetchGroupOffsets(groupId, topics) {
      check()
      const commits = cluster.groups[groupId]?.commits ?? {}
      const out: { topic: string; partition: number; offset: bigint }[] = []
      if (topics) {
        for (const topic of topics) {
          topicOf(topic).end.forEach((_, partition) => {
            out.push({ topic, partition, offset: BigInt(commits[topic]?.[partition] ?? -1) })
          })
        }
        return out
      }
      for (const [topic, parts] of Object.entries(commits)) {
        for (const [p, offset] of Object.entries(parts))
          out.push({ topic, partition: Number(p), offset: BigInt(offset) })
      }
      return out
    },
    async close() {
      this.closed = true
    }
  }
}
