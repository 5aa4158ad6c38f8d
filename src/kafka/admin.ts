import { Admin, ConfigResourceTypes, FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka'
import { describeGroupsRaw, type GroupDescription } from './admin-groups.ts'
import {
  ConnectionWatch,
  type KafkaConnectionOptions,
  libraryOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
  saslIdentity
} from './connection.ts'
import { backoffMs, pause, runWithDeadline, withDeadline } from './deadline.ts'
import {
  KafkaClosedError,
  type KafkaErrorContext,
  KafkaRequestError,
  KafkaTimeoutError,
  OffsetCommitRejectedError,
  TopicExistsError,
  TopicPartitionCountError,
  translateKafkaError,
  UnknownTopicError
} from './errors.ts'
import { loadTopicMetadata, partitionsOf } from './library.ts'
import type { IsolationLevel, TopicPartitionOffset } from './types.ts'

export type { GroupDescription, GroupMemberDescription } from './admin-groups.ts'

export interface NewTopic {
  name: string
  partitions: number
  /** Defaults to the broker's `default.replication.factor`. */
  replicationFactor?: number
  /** Topic configs, e.g. `{ 'cleanup.policy': 'compact', 'retention.ms': '86400000' }`. */
  configs?: Record<string, string>
}

export interface TopicDescription {
  name: string
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[] }[]
}

/** `earliest` / `latest` (the high watermark, or the last stable offset under read_committed) or a time. */
export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number | bigint }

export interface CommittedOffset {
  topic: string
  partition: number
  /** The next offset the group will read; -1n when the group never committed this partition. */
  offset: bigint
  metadata?: string
}

export interface KafkaAdmin {
  createTopics(topics: NewTopic[], opts?: { ifNotExists?: boolean }): Promise<void>
  /** Creates missing topics and checks that existing ones have the partition count asked for. */
  ensureTopics(topics: NewTopic[]): Promise<void>
  describeTopics(names: string[]): Promise<TopicDescription[]>
  describeTopicConfigs(name: string): Promise<Record<string, string>>
  deleteTopics(names: string[], opts?: { ifExists?: boolean }): Promise<void>
  /** For a timestamp, the first offset at or after it; the log end offset when no record is that recent. */
  listOffsets(
    topics: { topic: string; partitions?: number[] }[],
    spec: OffsetSpec,
    opts?: { isolation?: IsolationLevel }
  ): Promise<Map<string, Map<number, bigint>>>
  describeGroups(groupIds: string[]): Promise<GroupDescription[]>
  fetchGroupOffsets(groupId: string, topics?: string[]): Promise<CommittedOffset[]>
  /** Only for a group without active members (as Kafka's own tool requires). */
  alterGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void>
  /** Deletes every record below `offset` (-1n: below the high watermark); the log start offset moves there. */
  deleteRecords(entries: TopicPartitionOffset[]): Promise<void>
  listGroups(): Promise<{ groupId: string; protocolType: string; state?: string }[]>
  /** Names of the cluster's topics, Kafka's internal ones (`__consumer_offsets`, ...) left out. */
  listTopics(): Promise<string[]>
  close(): Promise<void>
}

/**
 * The admin client. Safe to call concurrently (the KEDA scaler does). Every call is bounded by `requestTimeoutMs`
 * including its retries, and fails with a Streamlane error naming the topic, group or broker.
 */
export function createAdmin(options: KafkaConnectionOptions): KafkaAdmin {
  return new AdminClient(resolveConnectionOptions(options))
}

class AdminClient implements KafkaAdmin {
  readonly #admin: Admin
  readonly #resolved: ResolvedConnectionOptions
  readonly #watch: ConnectionWatch
  #closed = false

  constructor(resolved: ResolvedConnectionOptions) {
    this.#resolved = resolved
    this.#admin = new Admin(libraryOptions(resolved, 'admin'))
    this.#watch = new ConnectionWatch(this.#admin)
  }

  /** One admin call: closed check, deadline, error translation with context. */
  #run<T>(context: Omit<KafkaErrorContext, 'brokers'>, work: (deadline: number) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new KafkaClosedError('the Kafka admin client'))
    const ms = this.#resolved.requestTimeoutMs
    const deadline = Date.now() + ms
    return runWithDeadline(
      () => work(deadline),
      ms,
      { ...context, ...saslIdentity(this.#resolved), brokers: this.#resolved.brokers },
      this.#watch
    )
  }

  #metadata(topics: string[], deadline: number) {
    return loadTopicMetadata(this.#admin, topics, this.#resolved, deadline)
  }

  /** Polls metadata until `done` holds; topic creation and deletion propagate asynchronously to every broker. */
  async #waitForMetadata(topics: string[], deadline: number, done: (present: Set<string>) => boolean, what: string) {
    for (let attempt = 0; ; attempt++) {
      const present = new Set<string>()
      await Promise.all(
        topics.map(async (topic) => {
          try {
            const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true, retries: 0 })
            const info = metadata.topics.get(topic)
            if (info?.partitions.every((p) => p && p.leader >= 0)) present.add(topic)
          } catch (error) {
            if (!(error instanceof Error && /^Unknown topic/.test(error.message))) throw error
          }
        })
      )
      if (done(present)) return
      if (Date.now() >= deadline) throw new KafkaRequestError(what, `metadata did not show it before the deadline`)
      await pause(backoffMs(attempt, 25, 500))
    }
  }

  createTopics(topics: NewTopic[], opts: { ifNotExists?: boolean } = {}): Promise<void> {
    const names = topics.map((t) => t.name)
    return this.#run({ operation: `createTopics(${names.join(', ')})`, topics: names }, async (deadline) => {
      await Promise.all(
        topics.map(async (topic) => {
          if (!Number.isInteger(topic.partitions) || topic.partitions < 1) {
            throw new KafkaRequestError(
              `createTopics(${topic.name})`,
              `partitions must be a positive integer, got ${topic.partitions}`
            )
          }
          try {
            await this.#admin.createTopics({
              topics: [{ topic: topic.name, partitions: topic.partitions, replicas: topic.replicationFactor ?? -1 }],
              configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value }))
            })
          } catch (error) {
            const translated = translateKafkaError(error, {
              operation: `createTopics(${topic.name})`,
              topics: [topic.name],
              ...saslIdentity(this.#resolved)
            })
            if (translated instanceof TopicExistsError && opts.ifNotExists) return
            throw translated
          }
        })
      )
      await this.#waitForMetadata(
        names,
        deadline,
        (present) => present.size === names.length,
        `createTopics(${names.join(', ')})`
      )
    })
  }

  async ensureTopics(topics: NewTopic[]): Promise<void> {
    await this.createTopics(topics, { ifNotExists: true })
    const described = await this.describeTopics(topics.map((t) => t.name))
    for (const [i, topic] of topics.entries()) {
      const actual = described[i]?.partitions.length ?? 0
      if (actual !== topic.partitions) throw new TopicPartitionCountError(topic.name, topic.partitions, actual)
    }
  }

  describeTopics(names: string[]): Promise<TopicDescription[]> {
    return this.#run({ operation: 'describeTopics', topics: names }, async (deadline) => {
      if (names.length === 0) return []
      const metadata = await this.#metadata(names, deadline)
      return names.map((name) => {
        const info = metadata.topics.get(name)
        if (!info) throw new UnknownTopicError(name)
        return {
          name,
          partitions: info.partitions.map((p, partition) => ({
            partition,
            leader: p?.leader ?? -1,
            replicas: [...(p?.replicas ?? [])],
            isr: [...(p?.isr ?? [])]
          }))
        }
      })
    })
  }

  describeTopicConfigs(name: string): Promise<Record<string, string>> {
    return this.#run({ operation: `describeTopicConfigs(${name})`, topics: [name] }, async (deadline) => {
      // Checked first: the library retries an unknown topic here as if it were transient.
      await this.#metadata([name], deadline)
      const [description] = await this.#admin.describeConfigs({
        resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: name }]
      })
      const configs: Record<string, string> = {}
      for (const entry of description?.configs ?? []) {
        if (entry.value !== null && entry.value !== undefined) configs[entry.name] = entry.value
      }
      return configs
    })
  }

  deleteTopics(names: string[], opts: { ifExists?: boolean } = {}): Promise<void> {
    return this.#run({ operation: `deleteTopics(${names.join(', ')})`, topics: names }, async (deadline) => {
      const existing: string[] = []
      for (const name of names) {
        try {
          await this.#metadata([name], deadline)
          existing.push(name)
        } catch (error) {
          if (!(error instanceof UnknownTopicError && opts.ifExists)) throw error
        }
      }
      if (existing.length === 0) return
      await this.#admin.deleteTopics({ topics: existing })
      await this.#waitForMetadata(
        existing,
        deadline,
        (present) => present.size === 0,
        `deleteTopics(${existing.join(', ')})`
      )
    })
  }

  listOffsets(
    topics: { topic: string; partitions?: number[] }[],
    spec: OffsetSpec,
    opts: { isolation?: IsolationLevel } = {}
  ): Promise<Map<string, Map<number, bigint>>> {
    const names = [...new Set(topics.map((t) => t.topic))]
    return this.#run({ operation: 'listOffsets', topics: names }, async (deadline) => {
      const result = new Map<string, Map<number, bigint>>()
      if (names.length === 0) return result
      const metadata = await this.#metadata(names, deadline)
      const requested = topics.map(({ topic, partitions }) => ({
        topic,
        partitions: partitions ?? partitionsOf(metadata, topic)
      }))
      const isolationLevel =
        opts.isolation === 'read_committed'
          ? FetchIsolationLevels.READ_COMMITTED
          : FetchIsolationLevels.READ_UNCOMMITTED
      const timestamp =
        spec === 'earliest'
          ? ListOffsetTimestamps.EARLIEST
          : spec === 'latest'
            ? ListOffsetTimestamps.LATEST
            : BigInt(spec.timestamp)
      const list = async (entries: { topic: string; partitions: number[] }[], at: bigint) =>
        this.#admin.listOffsets({
          isolationLevel,
          topics: entries.map(({ topic, partitions }) => ({
            name: topic,
            partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp: at }))
          }))
        })
      const noneThatRecent: { topic: string; partitions: number[] }[] = []
      for (const topic of await list(requested, timestamp)) {
        const offsets = result.get(topic.name) ?? new Map<number, bigint>()
        result.set(topic.name, offsets)
        for (const p of topic.partitions) {
          if (p.offset < 0n && timestamp >= 0n) {
            // Kafka answers -1 when no record is at or after the time; reading from there means the end of the log.
            const entry = noneThatRecent.find((e) => e.topic === topic.name)
            if (entry) entry.partitions.push(p.partitionIndex)
            else noneThatRecent.push({ topic: topic.name, partitions: [p.partitionIndex] })
          } else {
            offsets.set(p.partitionIndex, p.offset)
          }
        }
      }
      if (noneThatRecent.length > 0) {
        for (const topic of await list(noneThatRecent, ListOffsetTimestamps.LATEST)) {
          for (const p of topic.partitions) result.get(topic.name)?.set(p.partitionIndex, p.offset)
        }
      }
      return result
    })
  }

  describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    return this.#run({ operation: `describeGroups(${groupIds.join(', ')})` }, (deadline) =>
      this.#retryRetriable(() => describeGroupsRaw(this.#admin, groupIds), deadline, 'describeGroups')
    )
  }

  fetchGroupOffsets(groupId: string, topics?: string[]): Promise<CommittedOffset[]> {
    return this.#run({ operation: `fetchGroupOffsets(${groupId})`, topics, groupId }, async (deadline) => {
      let request: Parameters<Admin['listConsumerGroupOffsets']>[0]['groups'][number] = groupId
      if (topics) {
        if (topics.length === 0) return []
        // Naming every partition makes the broker answer -1 for the ones never committed, as the contract says.
        const metadata = await this.#metadata(topics, deadline)
        request = { groupId, topics: topics.map((name) => ({ name, partitionIndexes: partitionsOf(metadata, name) })) }
      }
      const [group] = await this.#admin.listConsumerGroupOffsets({ groups: [request] })
      const offsets: CommittedOffset[] = []
      for (const topic of group?.topics ?? []) {
        for (const p of topic.partitions) {
          const entry: CommittedOffset = { topic: topic.name, partition: p.partitionIndex, offset: p.committedOffset }
          if (p.metadata) entry.metadata = p.metadata
          offsets.push(entry)
        }
      }
      return offsets.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    })
  }

  alterGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    const names = [...new Set(offsets.map((o) => o.topic))]
    return this.#run({ operation: `alterGroupOffsets(${groupId})`, topics: names }, async (deadline) => {
      await this.#metadata(names, deadline)
      try {
        await this.#admin.alterConsumerGroupOffsets({
          groupId,
          topics: names.map((name) => ({
            name,
            partitionOffsets: offsets
              .filter((o) => o.topic === name)
              .map(({ partition, offset }) => ({ partition, offset }))
          }))
        })
      } catch (error) {
        const translated = translateKafkaError(error, {
          operation: 'alterGroupOffsets',
          groupId,
          topics: names,
          ...saslIdentity(this.#resolved)
        })
        if (translated instanceof OffsetCommitRejectedError) {
          throw new KafkaRequestError(
            `alterGroupOffsets(${groupId})`,
            `group ${groupId} has active members (${translated.kafkaCode}); stop them before altering its offsets`,
            { cause: error, kafkaCode: translated.kafkaCode }
          )
        }
        throw translated
      }
    })
  }

  deleteRecords(entries: TopicPartitionOffset[]): Promise<void> {
    const names = [...new Set(entries.map((e) => e.topic))]
    return this.#run({ operation: 'deleteRecords', topics: names }, async (deadline) => {
      if (entries.length === 0) return
      await this.#metadata(names, deadline)
      await this.#admin.deleteRecords({
        topics: names.map((name) => ({
          name,
          partitions: entries.filter((e) => e.topic === name).map(({ partition, offset }) => ({ partition, offset }))
        }))
      })
    })
  }

  listTopics(): Promise<string[]> {
    return this.#run({ operation: 'listTopics' }, async () =>
      (await this.#admin.listTopics({ includeInternals: false })).sort()
    )
  }

  listGroups(): Promise<{ groupId: string; protocolType: string; state?: string }[]> {
    return this.#run({ operation: 'listGroups' }, async () => {
      // No type filter: the library defaults to classic groups only and would hide KIP-848 consumer groups.
      const groups = await this.#admin.listGroups({ types: [] })
      return [...groups.values()]
        .map((g) => ({
          groupId: g.id,
          protocolType: g.protocolType,
          ...(g.state && g.state !== 'Unknown' ? { state: g.state } : {})
        }))
        .sort((a, b) => a.groupId.localeCompare(b.groupId))
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const ms = this.#resolved.requestTimeoutMs
    await withDeadline(this.#admin.close(), ms, () => new KafkaTimeoutError('close admin', ms)).catch(() => {})
  }

  /** Retries raw-API calls (which the library does not retry) while the error is transient and time remains. */
  async #retryRetriable<T>(work: () => Promise<T>, deadline: number, operation: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await work()
      } catch (error) {
        const translated = translateKafkaError(error, {
          operation,
          brokers: this.#resolved.brokers,
          deadlineMs: this.#resolved.requestTimeoutMs,
          ...saslIdentity(this.#resolved)
        })
        const wait = backoffMs(attempt, Math.max(this.#resolved.retryDelayMs, 50), 2_000)
        const retriable = 'retriable' in translated && translated.retriable === true
        if (!retriable || attempt >= this.#resolved.retries || Date.now() + wait >= deadline) throw translated
        await pause(wait)
      }
    }
  }
}
