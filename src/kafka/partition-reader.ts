import { Admin, type ClusterMetadata, protocolErrorsCodesById } from '@platformatic/kafka'
import type { StreamlaneError } from '../errors.ts'
import { topicPartitionKey } from '../topic-partition.ts'
import { libraryOptions, saslIdentity } from './connection.ts'
import { backoffMs, runWithDeadline, withDeadline } from './deadline.ts'
import {
  KafkaClosedError,
  KafkaRequestError,
  OffsetOutOfRangeError,
  translateKafkaError,
  UnknownTopicError
} from './errors.ts'
import { decodeRecordBatches } from './fetch-decoder.ts'
import {
  type FetchedPartition,
  type FetchTarget,
  fetchPartitions,
  listStartOffsets,
  OFFSET_EARLIEST,
  OFFSET_LATEST
} from './fetch-request.ts'
import { loadTopicMetadata } from './library.ts'
import {
  type PartitionReaderOptions,
  type ResolvedReaderOptions as Resolved,
  resolveReaderOptions
} from './reader-options.ts'
import { type PartitionState, ReaderState } from './reader-state.ts'
import type { ConsumedRecord, TopicPartition, TopicPartitionOffset } from './types.ts'

export { OFFSET_EARLIEST, OFFSET_LATEST } from './fetch-request.ts'
export type { PartitionReaderOptions } from './reader-options.ts'

export interface KafkaPartitionReader {
  /**
   * Adds partitions at the given offsets (or OFFSET_EARLIEST / OFFSET_LATEST); checks their topics exist. A partition
   * assigned already starts afresh: at the new offset, its fetched records dropped, no longer paused.
   */
  assign(partitions: TopicPartitionOffset[]): Promise<void>
  unassign(partitions: TopicPartition[]): void
  seek(topic: string, partition: number, offset: bigint): void
  pause(partitions: TopicPartition[]): void
  resume(partitions: TopicPartition[]): void
  /** The next offset poll() returns for the partition; undefined when not assigned or not yet resolved. */
  position(topic: string, partition: number): bigint | undefined
  /**
   * The position when no fetched record of the partition waits in the reader (undefined otherwise): every record
   * before it was handed out, and under read_committed it is past commit markers and aborted batches, so it is the
   * offset to commit once the caller has processed all it was given (Kafka Streams commits the consumer's position
   * the same way, KAFKA-6607). A fetch in flight does not matter: it can only move the position past what it skips.
   */
  drainedPosition(topic: string, partition: number): bigint | undefined
  /** The partition's end as of the last fetch: the last stable offset (read_committed) or the high watermark. */
  endOffset(topic: string, partition: number): bigint | undefined
  assignment(): TopicPartition[]
  /** Waits up to maxWaitMs for records of unpaused partitions; returns [] when none came. */
  poll(maxWaitMs: number): Promise<ConsumedRecord[]>
  /** Polls until close(), yielding non-empty batches. */
  batches(pollMs?: number): AsyncGenerator<ConsumedRecord[]>
  close(): Promise<void>
}

/**
 * Partition errors retrying cannot fix. Everything else (leader moved, epoch fenced, replica or storage trouble,
 * topic being recreated) is retried with backoff after a metadata refresh, until `unavailableTimeoutMs`.
 */
const FATAL = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CORRUPT_MESSAGE',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'UNSUPPORTED_VERSION'
])
const OFFSET_OUT_OF_RANGE = 1

export function createPartitionReader(options: PartitionReaderOptions): KafkaPartitionReader {
  return new PartitionReader(resolveReaderOptions(options))
}

/**
 * Reads manually assigned partitions (no group): restoration of changelogs, standby replicas, and the input
 * partitions of the tasks a member owns. Fetches run in the background, one request in flight per broker, while
 * the caller processes the previous poll's records; a partition is fetched again once its buffered records are
 * taken, so memory stays bounded by one response per broker.
 */
class PartitionReader implements KafkaPartitionReader {
  readonly #o: Resolved
  readonly #client: Admin
  readonly #state = new ReaderState()
  readonly #busyBrokers = new Set<number>()
  #metadata: ClusterMetadata | undefined
  #metadataStale = true
  #metadataLoading: Promise<void> | undefined
  #metadataRetryAt = 0
  #metadataAttempts = 0
  #wakeTimer: NodeJS.Timeout | undefined
  #closed = false

  constructor(resolved: Resolved) {
    this.#o = resolved
    this.#client = new Admin(libraryOptions(resolved, 'reader'))
  }

  async assign(partitions: TopicPartitionOffset[]): Promise<void> {
    this.#checkOpen()
    const topics = [...new Set(partitions.map((p) => p.topic))]
    if (topics.length === 0) return
    const ms = this.#o.requestTimeoutMs
    const resolved = await runWithDeadline(
      async () => {
        const metadata = await loadTopicMetadata(this.#client, topics, this.#o, Date.now() + ms)
        for (const p of partitions) {
          const count = metadata.topics.get(p.topic)?.partitionsCount ?? 0
          if (!Number.isInteger(p.partition) || p.partition < 0 || p.partition >= count) {
            throw new KafkaRequestError('assign', `topic ${p.topic} has no partition ${p.partition} (it has ${count})`)
          }
        }
        return this.#resolveOffsets(partitions)
      },
      ms,
      { operation: 'assign', brokers: this.#o.brokers, topics, ...saslIdentity(this.#o) }
    )
    this.#checkOpen()
    for (const p of partitions) {
      this.#state.add(p.topic, p.partition, resolved.get(topicPartitionKey(p.topic, p.partition)) ?? p.offset)
    }
    this.#metadataStale = true
    this.#pump()
  }

  /** Turns OFFSET_EARLIEST / OFFSET_LATEST into offsets now, so position() is concrete once assign() returns. */
  async #resolveOffsets(partitions: TopicPartitionOffset[]): Promise<Map<string, bigint>> {
    const symbolic = partitions.filter((p) => p.offset < 0n)
    const resolved = new Map<string, bigint>()
    if (symbolic.length === 0) return resolved
    const listed = await this.#listOffsets(
      symbolic.map((p) => ({ topic: p.topic, partition: p.partition, at: p.offset }))
    )
    for (const [key, offset] of listed) resolved.set(key, offset)
    return resolved
  }

  #listOffsets(requests: { topic: string; partition: number; at: bigint }[]): Promise<Map<string, bigint>> {
    return listStartOffsets(this.#client, this.#o.isolation, requests)
  }

  unassign(partitions: TopicPartition[]): void {
    for (const p of partitions) this.#state.remove(p.topic, p.partition)
  }

  seek(topic: string, partition: number, offset: bigint): void {
    this.#state.require(topic, partition, 'seek').seek(offset)
    this.#pump()
  }

  pause(partitions: TopicPartition[]): void {
    for (const p of partitions) this.#state.require(p.topic, p.partition, 'pause').paused = true
  }

  resume(partitions: TopicPartition[]): void {
    for (const p of partitions) this.#state.require(p.topic, p.partition, 'resume').paused = false
    this.#pump()
  }

  position(topic: string, partition: number): bigint | undefined {
    const state = this.#state.get(topic, partition)
    return state && state.position >= 0n ? state.position : undefined
  }

  drainedPosition(topic: string, partition: number): bigint | undefined {
    const state = this.#state.get(topic, partition)
    return state && state.buffered === 0 && state.position >= 0n ? state.position : undefined
  }

  endOffset(topic: string, partition: number): bigint | undefined {
    return this.#state.get(topic, partition)?.endOffset
  }

  assignment(): TopicPartition[] {
    return this.#state.all().map(({ topic, partition }) => ({ topic, partition }))
  }

  async poll(maxWaitMs: number): Promise<ConsumedRecord[]> {
    this.#checkOpen()
    const deadline = Date.now() + Math.max(0, maxWaitMs)
    for (;;) {
      const failed = this.#state.firstError()
      if (failed) throw failed
      const records = this.#state.take(this.#o.maxPollRecords)
      this.#pump()
      if (records.length > 0 || Date.now() >= deadline || this.#closed) return records
      await this.#state.waitForData(deadline - Date.now())
      this.#checkOpen()
    }
  }

  async *batches(pollMs = 1_000): AsyncGenerator<ConsumedRecord[]> {
    while (!this.#closed) {
      const records = await this.poll(pollMs).catch((error) => {
        if (this.#closed) return []
        throw error
      })
      if (records.length > 0) yield records
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#wakeTimer)
    this.#state.wakeAll()
    // Closing only drops sockets; a deadline still guards it like every other wait.
    await withDeadline(
      this.#client.close(),
      this.#o.requestTimeoutMs,
      () => new KafkaClosedError('the partition reader')
    ).catch(() => {})
  }

  #checkOpen(): void {
    if (this.#closed) throw new KafkaClosedError('the partition reader')
  }

  /** Starts whatever work is due: offset resets, and one fetch per broker that has fetchable partitions. */
  #pump(): void {
    if (this.#closed) return
    if (this.#metadataStale || !this.#metadata) {
      const wait = this.#metadataRetryAt - Date.now()
      if (wait > 0) {
        // A cluster that just failed to answer is not asked again at once: a broker that refuses connections
        // would otherwise be hammered in a tight loop.
        clearTimeout(this.#wakeTimer)
        this.#wakeTimer = setTimeout(() => this.#pump(), wait)
      } else {
        this.#refreshMetadata()
      }
      return
    }
    const now = Date.now()
    const byBroker = new Map<number, PartitionState[]>()
    const resets: PartitionState[] = []
    for (const state of this.#state.all()) {
      if (!state.fetchable(now)) continue
      if (state.position < 0n) {
        resets.push(state)
        continue
      }
      const leader = this.#metadata.topics.get(state.topic)?.partitions[state.partition]?.leader ?? -1
      if (leader < 0 || !this.#metadata.brokers.has(leader)) {
        this.#failed(
          state,
          new KafkaRequestError('fetch', `${state.topic}-${state.partition} has no leader`, { retriable: true })
        )
        continue
      }
      if (this.#busyBrokers.has(leader)) continue
      const list = byBroker.get(leader) ?? []
      list.push(state)
      byBroker.set(leader, list)
    }
    if (resets.length > 0) void this.#reset(resets)
    for (const [leader, states] of byBroker) void this.#fetch(leader, states)
    this.#scheduleWake()
  }

  /** Re-runs the pump when the earliest backoff ends, so a failed partition is retried without a poll() call. */
  #scheduleWake(): void {
    clearTimeout(this.#wakeTimer)
    const next = this.#state.nextRetryAt()
    if (next === undefined) return
    this.#wakeTimer = setTimeout(() => this.#pump(), Math.max(0, next - Date.now()))
  }

  #refreshMetadata(): void {
    if (this.#metadataLoading) return
    const topics = [...new Set(this.#state.all().map((s) => s.topic))]
    if (topics.length === 0) return
    this.#metadataLoading = this.#client
      .metadata({ topics, forceUpdate: true, retries: 0 })
      .then((metadata) => {
        this.#metadata = metadata
        this.#metadataStale = false
        this.#metadataAttempts = 0
      })
      .catch((error) => {
        this.#metadataRetryAt =
          Date.now() + backoffMs(this.#metadataAttempts++, Math.max(this.#o.retryDelayMs, 50), 5_000)
        const unknown = error instanceof Error ? /^Unknown topic (.+)\.$/.exec(error.message)?.[1] : undefined
        for (const state of this.#state.all()) {
          if (unknown && state.topic === unknown) state.error = new UnknownTopicError(unknown, { cause: error })
          else this.#failed(state, error)
        }
        this.#state.wakeAll()
      })
      .finally(() => {
        this.#metadataLoading = undefined
        this.#pump()
      })
  }

  async #fetch(leader: number, states: PartitionState[]): Promise<void> {
    const broker = this.#metadata?.brokers.get(leader)
    if (!broker || !this.#metadata) return
    this.#busyBrokers.add(leader)
    const requested = states.map((state) => ({ state, version: state.version, fetchOffset: state.position }))
    for (const r of requested) r.state.inflight = true
    const targets: FetchTarget[] = requested.map(({ state, fetchOffset }) => {
      const info = this.#metadata?.topics.get(state.topic)
      return {
        topic: state.topic,
        topicId: info?.id ?? state.topic,
        partition: state.partition,
        fetchOffset,
        leaderEpoch: info?.partitions[state.partition]?.leaderEpoch ?? -1
      }
    })
    try {
      const answers = await fetchPartitions(this.#client, broker, targets, {
        maxWaitMs: this.#o.fetchMaxWaitMs,
        minBytes: this.#o.fetchMinBytes,
        maxBytes: this.#o.fetchMaxBytes,
        partitionMaxBytes: this.#o.partitionMaxBytes,
        isolation: this.#o.isolation
      })
      for (const { state, version, fetchOffset } of requested) {
        state.inflight = false
        if (this.#state.get(state.topic, state.partition) !== state || state.version !== version) continue
        const answer = answers.get(topicPartitionKey(state.topic, state.partition))
        if (answer) this.#apply(state, fetchOffset, answer)
      }
    } catch (error) {
      this.#metadataStale = true
      for (const { state, version } of requested) {
        state.inflight = false
        if (state.version === version) this.#failed(state, error, `${broker.host}:${broker.port}`)
      }
    } finally {
      this.#busyBrokers.delete(leader)
      this.#state.wakeAll()
      this.#pump()
    }
  }

  #apply(state: PartitionState, fetchOffset: bigint, answer: FetchedPartition): void {
    if (answer.errorCode === 0) {
      state.succeeded()
      state.endOffset = this.#o.isolation === 'read_committed' ? answer.lastStableOffset : answer.highWatermark
      const decoded = decodeRecordBatches(answer.records, {
        topic: state.topic,
        partition: state.partition,
        fetchOffset,
        readCommitted: this.#o.isolation === 'read_committed',
        abortedTransactions: answer.abortedTransactions,
        copyBuffers: this.#o.copyBuffers
      })
      state.fill(decoded.records, decoded.nextOffset)
      return
    }
    if (answer.errorCode === OFFSET_OUT_OF_RANGE) {
      if (this.#o.offsetReset === 'error') {
        state.error = new OffsetOutOfRangeError(state.topic, state.partition, fetchOffset, 'offsetReset is error')
      } else {
        state.seek(this.#o.offsetReset === 'earliest' ? OFFSET_EARLIEST : OFFSET_LATEST)
      }
      return
    }
    const name = protocolErrorsCodesById[answer.errorCode] ?? `error code ${answer.errorCode}`
    const failure = new KafkaRequestError(`fetch ${state.topic}-${state.partition}`, name, {
      kafkaCode: name,
      retriable: !FATAL.has(name)
    })
    if (FATAL.has(name)) state.error = failure
    else this.#failed(state, failure)
  }

  /** Resolves OFFSET_EARLIEST / OFFSET_LATEST positions (set by seek or an out-of-range reset) with ListOffsets. */
  async #reset(states: PartitionState[]): Promise<void> {
    const requested = states.map((state) => ({ state, version: state.version, at: state.position }))
    for (const r of requested) r.state.inflight = true
    try {
      const offsets = await this.#listOffsets(
        requested.map(({ state, at }) => ({ topic: state.topic, partition: state.partition, at }))
      )
      for (const { state, version } of requested) {
        state.inflight = false
        const offset = offsets.get(topicPartitionKey(state.topic, state.partition))
        if (state.version === version && offset !== undefined) {
          state.position = offset
          state.succeeded()
        }
      }
    } catch (error) {
      this.#metadataStale = true
      for (const { state, version } of requested) {
        state.inflight = false
        if (state.version === version) this.#failed(state, error)
      }
    } finally {
      this.#pump()
    }
  }

  /** Backs a partition off after a failure; past `unavailableTimeoutMs` the failure is reported by poll(). */
  #failed(state: PartitionState, error: unknown, broker?: string): void {
    const translated: StreamlaneError = translateKafkaError(error, {
      operation: `fetch ${state.topic}-${state.partition}`,
      brokers: broker ? [broker] : this.#o.brokers,
      deadlineMs: this.#o.unavailableTimeoutMs,
      topics: [state.topic],
      ...saslIdentity(this.#o)
    })
    if (translated instanceof UnknownTopicError) {
      state.error = translated
      return
    }
    const now = Date.now()
    state.failingSince ??= now
    state.retryAt = now + backoffMs(state.attempts++, Math.max(this.#o.retryDelayMs, 50), 5_000)
    if (now - state.failingSince >= this.#o.unavailableTimeoutMs) {
      state.error = new KafkaRequestError(
        `fetch ${state.topic}-${state.partition}`,
        `no successful fetch for ${now - state.failingSince} ms (unavailableTimeoutMs ${this.#o.unavailableTimeoutMs}): ${translated.message}`,
        { cause: translated }
      )
    }
    this.#metadataStale = true
  }
}
