import { Base, type ClusterMetadata } from '@platformatic/kafka'
import { ConfigError } from '../../errors.ts'
import { libraryOptions, resolveConnectionOptions } from '../connection.ts'
import { pause } from '../deadline.ts'
import { KafkaClosedError, KafkaRequestError, translateKafkaError } from '../errors.ts'
import { decodeRecordBatches } from '../fetch-decoder.ts'
import { anyKafkaErrorName } from '../group/kafka-error.ts'
import { getConnection, loadTopicMetadata } from '../library.ts'
import {
  type AcknowledgeType,
  acknowledgeTypeCode,
  deliveryCountOf,
  gapOffsets,
  toAcknowledgementBatches
} from './acknowledgements.ts'
import {
  ACK_RENEW,
  errorName,
  type ShareAcknowledgeResponse,
  type ShareFetchResponse,
  type ShareTopicRequest,
  shareAcknowledge,
  shareAcknowledgeV2,
  shareFetchV1,
  shareFetchV2
} from './share-apis.ts'
import { ShareMembership } from './share-membership.ts'
import type {
  AcknowledgementFailure,
  AcknowledgementMode,
  KafkaShareConsumer,
  ShareConsumerOptions,
  ShareRecord
} from './share-types.ts'

export type {
  AcknowledgementFailure,
  AcknowledgementMode,
  KafkaShareConsumer,
  ShareConsumerOptions,
  ShareRecord
} from './share-types.ts'

import { ShareSession, sessionPartitionKey } from './share-session.ts'

/**
 * A share-group consumer (KIP-932, "queues for Kafka"), the counterpart of Java's KafkaShareConsumer: members of one
 * share group fetch from the same partitions, the broker hands each record to one member under an acquisition lock,
 * and the member acknowledges it (accept / release / reject). An unacknowledged record comes back after the lock
 * times out, with its delivery count raised; after the group's delivery count limit it is archived.
 *
 * Acknowledgements travel on the next ShareFetch to the partition's leader, or at once with `commit()`.
 * - `implicit` mode (default): every record a poll() returned and that was not acknowledged otherwise is accepted by
 *   the next poll(), commit() or close().
 * - `explicit` mode: the caller acknowledges each record; close() releases those it did not, so they are
 *   redelivered at once instead of after the lock timeout.
 */

/** Partition errors that mean metadata moved: refresh leaders and topic ids, then fetch again. */
const STALE_METADATA = new Set([3, 6, 74, 100]) // UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_TOPIC_ID
/** Top-level ShareFetch / ShareAcknowledge errors after which the session is gone and is opened again. */
const SESSION_LOST = new Set(['SHARE_SESSION_NOT_FOUND', 'INVALID_SHARE_SESSION_EPOCH', 'UNKNOWN_MEMBER_ID'])

export function createShareConsumer(options: ShareConsumerOptions): KafkaShareConsumer {
  return new ShareConsumer(options)
}

interface Delivered {
  topicId: string
  record: ShareRecord
}

class ShareConsumer implements KafkaShareConsumer {
  readonly groupId: string
  readonly #resolved: ReturnType<typeof resolveConnectionOptions>
  readonly #options: ShareConsumerOptions
  readonly #mode: AcknowledgementMode
  readonly #base: Base
  readonly #membership: ShareMembership
  readonly #sessions = new Map<number, ShareSession>()
  /** Pending acknowledgements by `topicId:partition`, offset -> type code. */
  readonly #pending = new Map<string, Map<bigint, number>>()
  /** Records returned by poll() and not acknowledged yet, by `topic\0partition\0offset`. */
  readonly #delivered = new Map<string, Delivered>()
  #metadata: ClusterMetadata | undefined
  #metadataStale = true
  #joined: Promise<void> | undefined
  #fatal: Error | undefined
  #closed = false
  #lockTimeoutMs = 0
  #apiVersions: Promise<Map<number, number>> | undefined

  constructor(options: ShareConsumerOptions) {
    if (!options.groupId) throw new ConfigError('groupId', 'must name the share group')
    if (!Array.isArray(options.topics) || options.topics.length === 0) {
      throw new ConfigError('topics', 'must list at least one topic')
    }
    const mode = options.acknowledgementMode ?? 'implicit'
    if (mode !== 'implicit' && mode !== 'explicit') {
      throw new ConfigError('acknowledgementMode', `must be implicit or explicit, got ${String(mode)}`)
    }
    this.groupId = options.groupId
    this.#options = options
    this.#mode = mode
    this.#resolved = resolveConnectionOptions(options)
    this.#base = new Base(libraryOptions(this.#resolved, 'share'))
    this.#membership = new ShareMembership({
      ...this.#resolved,
      groupId: options.groupId,
      topics: options.topics,
      rackId: options.rackId,
      onFatal: (error) => {
        this.#fatal = error
      }
    })
  }

  get memberId(): string {
    return this.#membership.memberId
  }

  get acquisitionLockTimeoutMs(): number {
    return this.#lockTimeoutMs
  }

  assignment(): { topic: string; partition: number }[] {
    const out: { topic: string; partition: number }[] = []
    for (const [topicId, partitions] of this.#membership.assignment) {
      const topic = this.#topicName(topicId)
      if (topic) for (const partition of partitions) out.push({ topic, partition })
    }
    return out
  }

  async poll(timeoutMs = 1_000, maxRecords = this.#options.maxRecords ?? 500): Promise<ShareRecord[]> {
    this.#check('poll')
    this.#joined ??= this.#membership.join()
    await this.#joined
    if (this.#mode === 'implicit') this.#acknowledgeDelivered('accept')
    const deadline = Date.now() + timeoutMs
    for (;;) {
      this.#check('poll')
      if (this.#metadataStale || this.#unknownTopicIds()) await this.#refreshMetadata()
      const byLeader = this.#assignedByLeader()
      if (byLeader.size === 0) {
        // Joined, assignment not there yet (the coordinator computes it asynchronously) or no partitions at all.
        const left = deadline - Date.now()
        if (left <= 0) return []
        await pause(Math.min(left, 100))
        continue
      }
      const maxWaitMs = Math.max(0, Math.min(this.#options.maxWaitMs ?? 500, deadline - Date.now()))
      const batches = await Promise.all(
        [...byLeader].map(([leader, partitions]) => this.#fetch(leader, partitions, maxWaitMs, maxRecords))
      )
      const records = batches.flat()
      if (records.length > 0 || Date.now() >= deadline) return records
    }
  }

  acknowledge(record: ShareRecord, type: AcknowledgeType = 'accept'): void {
    const code = acknowledgeTypeCode(type)
    const key = recordKey(record)
    const delivered = this.#delivered.get(key)
    if (!delivered) {
      throw new KafkaRequestError(
        'acknowledge',
        `${record.topic}-${record.partition}@${record.offset} was not delivered to this member or is already acknowledged`
      )
    }
    this.#delivered.delete(key)
    this.#addPending(delivered.topicId, record.partition, record.offset, code)
  }

  async supportsRenew(): Promise<boolean> {
    return ((await this.#maxVersions()).get(shareAcknowledgeV2.key) ?? 1) >= 2
  }

  async renew(records: readonly ShareRecord[]): Promise<AcknowledgementFailure[]> {
    this.#check('renew')
    if (!(await this.supportsRenew())) {
      throw new KafkaRequestError(
        'renew',
        'the brokers cannot renew acquisition locks (ShareAcknowledge v2, KIP-1222, needs Apache Kafka 4.2 or newer)'
      )
    }
    const byLeader = new Map<number, Map<string, Map<bigint, number>>>()
    for (const record of records) {
      // A record acknowledged meanwhile is no longer acquired: nothing to renew.
      const delivered = this.#delivered.get(recordKey(record))
      if (!delivered) continue
      const leader = this.#leaderOf(delivered.topicId, record.partition)
      if (leader < 0) continue
      const partitions = byLeader.get(leader) ?? new Map<string, Map<bigint, number>>()
      byLeader.set(leader, partitions)
      const key = sessionPartitionKey(delivered.topicId, record.partition)
      const offsets = partitions.get(key) ?? new Map<bigint, number>()
      partitions.set(key, offsets.set(record.offset, ACK_RENEW))
    }
    const results = await Promise.all(
      [...byLeader].map(([leader, partitions]) => this.#acknowledgeTo(leader, partitions, false, true))
    )
    return results.flat()
  }

  async commit(): Promise<AcknowledgementFailure[]> {
    this.#check('commit')
    if (this.#mode === 'implicit') this.#acknowledgeDelivered('accept')
    return this.#sendAcknowledgements(false)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#acknowledgeDelivered(this.#mode === 'implicit' ? 'accept' : 'release')
    try {
      if (this.#joined) await this.#sendAcknowledgements(true).catch(() => [])
    } finally {
      this.#closed = true
      if (this.#joined) await this.#membership.leave()
      await this.#base.close().catch(() => {})
    }
  }

  #check(what: string): void {
    if (this.#closed) throw new KafkaClosedError(`share consumer of group ${this.groupId} (${what})`)
    if (this.#fatal) throw this.#fatal
  }

  #acknowledgeDelivered(type: AcknowledgeType): void {
    for (const delivered of [...this.#delivered.values()]) this.acknowledge(delivered.record, type)
  }

  #addPending(topicId: string, partition: number, offset: bigint, code: number): void {
    const key = sessionPartitionKey(topicId, partition)
    let acks = this.#pending.get(key)
    if (!acks) {
      acks = new Map()
      this.#pending.set(key, acks)
    }
    acks.set(offset, code)
  }

  /** Removes and returns the pending acknowledgements of `key`; `restore` puts them back after a failed request. */
  #takePending(key: string): Map<bigint, number> | undefined {
    const acks = this.#pending.get(key)
    this.#pending.delete(key)
    return acks && acks.size > 0 ? acks : undefined
  }

  #restore(key: string, acks: Map<bigint, number>): void {
    const [topicId, partition] = splitKey(key)
    for (const [offset, code] of acks) {
      if (!this.#pending.get(key)?.has(offset)) this.#addPending(topicId, partition, offset, code)
    }
  }

  #topicName(topicId: string): string | undefined {
    for (const [name, info] of this.#metadata?.topics ?? []) if (info.id === topicId) return name
    return undefined
  }

  #unknownTopicIds(): boolean {
    for (const topicId of this.#membership.assignment.keys()) if (!this.#topicName(topicId)) return true
    return false
  }

  async #refreshMetadata(): Promise<void> {
    const deadline = Date.now() + this.#resolved.requestTimeoutMs
    this.#metadata = await loadTopicMetadata(this.#base, this.#options.topics, this.#resolved, deadline)
    this.#metadataStale = false
  }

  /** The leader broker id of a partition, or -1 when the metadata does not say. */
  #leaderOf(topicId: string, partition: number): number {
    const name = this.#topicName(topicId)
    return name ? (this.#metadata?.topics.get(name)?.partitions[partition]?.leader ?? -1) : -1
  }

  /** Assigned partitions and partitions with pending acknowledgements, grouped by leader broker id. */
  #assignedByLeader(): Map<number, Set<string>> {
    const byLeader = new Map<number, Set<string>>()
    const add = (topicId: string, partition: number) => {
      const leader = this.#leaderOf(topicId, partition)
      if (leader < 0) return
      let set = byLeader.get(leader)
      if (!set) {
        set = new Set()
        byLeader.set(leader, set)
      }
      set.add(sessionPartitionKey(topicId, partition))
    }
    for (const [topicId, partitions] of this.#membership.assignment) for (const p of partitions) add(topicId, p)
    for (const key of this.#pending.keys()) add(...splitKey(key))
    return byLeader
  }

  #session(leader: number): ShareSession {
    let session = this.#sessions.get(leader)
    if (!session) {
      session = new ShareSession()
      this.#sessions.set(leader, session)
    }
    return session
  }

  #fetch(leader: number, partitions: Set<string>, maxWaitMs: number, maxRecords: number): Promise<ShareRecord[]> {
    const session = this.#session(leader)
    return session.run(async () => {
      const opening = !session.open
      const sent = new Map<string, Map<bigint, number>>()
      const topics = new Map<string, ShareTopicRequest>()
      for (const key of partitions) {
        // Acknowledgements cannot ride on the request that opens a session; they wait for the next one.
        const acks = opening ? undefined : this.#takePending(key)
        if (acks) sent.set(key, acks)
        if (!opening && !acks && session.partitions.has(key)) continue
        const [topicId, partition] = splitKey(key)
        const entry = topics.get(topicId) ?? { topicId, partitions: [] }
        entry.partitions.push({
          partitionIndex: partition,
          acknowledgementBatches: acks ? toAcknowledgementBatches(acks) : []
        })
        topics.set(topicId, entry)
      }
      const forgotten = new Map<string, number[]>()
      for (const key of session.partitions) {
        if (partitions.has(key)) continue
        const [topicId, partition] = splitKey(key)
        forgotten.set(topicId, [...(forgotten.get(topicId) ?? []), partition])
      }
      let response: ShareFetchResponse
      try {
        const broker = this.#metadata?.brokers.get(leader)
        if (!broker)
          throw new KafkaRequestError('ShareFetch', `broker ${leader} is not in the metadata`, { retriable: true })
        const api = await this.#shareFetchApi()
        const connection = await getConnection(this.#base, broker)
        response = await api.async(connection, {
          groupId: this.groupId,
          memberId: this.memberId,
          shareSessionEpoch: session.epoch,
          maxWaitMs,
          minBytes: 1,
          maxBytes: 52_428_800,
          maxRecords,
          batchSize: maxRecords,
          topics: [...topics.values()],
          forgottenTopics: [...forgotten].map(([topicId, parts]) => ({ topicId, partitions: parts }))
        })
      } catch (error) {
        for (const [key, acks] of sent) this.#restore(key, acks)
        return this.#onRequestFailure('ShareFetch', session, error)
      }
      session.advance()
      for (const key of partitions) session.partitions.add(key)
      for (const [topicId, parts] of forgotten)
        for (const p of parts) session.partitions.delete(sessionPartitionKey(topicId, p))
      if (response.acquisitionLockTimeoutMs > 0) this.#lockTimeoutMs = response.acquisitionLockTimeoutMs
      return this.#records(response)
    })
  }

  /** The highest version of each API the brokers speak, asked once. */
  #maxVersions(): Promise<Map<number, number>> {
    this.#apiVersions ??= this.#base.listApis().then(
      (apis) => new Map(apis.map((a) => [a.apiKey, a.maxVersion])),
      (error: unknown) => {
        this.#apiVersions = undefined
        throw error
      }
    )
    return this.#apiVersions
  }

  /** ShareFetch v2 where the broker has it (max_records is then a hard limit), else v1. */
  async #shareFetchApi(): Promise<typeof shareFetchV2> {
    return ((await this.#maxVersions()).get(shareFetchV2.key) ?? 1) >= 2 ? shareFetchV2 : shareFetchV1
  }

  /** A failed request: lost sessions and moved leaders heal on the next poll; anything else fails the poll. */
  async #onRequestFailure(what: string, session: ShareSession, error: unknown): Promise<ShareRecord[]> {
    const name = anyKafkaErrorName(error)
    session.reset()
    this.#metadataStale = true
    if (name === 'UNKNOWN_MEMBER_ID') this.#membership.rejoin()
    if ((name && SESSION_LOST.has(name)) || isRetriable(error)) {
      await pause(Math.max(this.#resolved.retryDelayMs, 50))
      return []
    }
    throw translateKafkaError(error, { operation: what, groupId: this.groupId, brokers: this.#resolved.brokers })
  }

  #records(response: ShareFetchResponse): ShareRecord[] {
    const out: ShareRecord[] = []
    for (const topicResponse of response.responses) {
      const topic = this.#topicName(topicResponse.topicId)
      if (!topic) continue
      for (const p of topicResponse.partitions) {
        if (p.errorCode !== 0 && STALE_METADATA.has(p.errorCode)) this.#metadataStale = true
        if (p.acknowledgeErrorCode !== 0) {
          this.#options.onAcknowledgementError?.({
            topic,
            partition: p.partitionIndex,
            error: errorName(p.acknowledgeErrorCode)
          })
        }
        if (p.acquiredRecords.length === 0) continue
        const decoded = decodeRecordBatches(p.records, {
          topic,
          partition: p.partitionIndex,
          fetchOffset: 0n,
          readCommitted: false,
          abortedTransactions: [],
          copyBuffers: true
        })
        const present = new Set<bigint>()
        for (const record of decoded.records) {
          const deliveryCount = deliveryCountOf(p.acquiredRecords, record.offset)
          if (deliveryCount === undefined) continue
          present.add(record.offset)
          const shareRecord: ShareRecord = { ...record, deliveryCount }
          this.#delivered.set(recordKey(shareRecord), { topicId: topicResponse.topicId, record: shareRecord })
          out.push(shareRecord)
        }
        const gapCode = acknowledgeTypeCode('gap')
        for (const offset of gapOffsets(p.acquiredRecords, present)) {
          this.#addPending(topicResponse.topicId, p.partitionIndex, offset, gapCode)
        }
      }
    }
    return out
  }

  /** ShareAcknowledge to every leader with pending acknowledgements; `closing` ends the sessions (epoch -1). */
  async #sendAcknowledgements(closing: boolean): Promise<AcknowledgementFailure[]> {
    if (this.#metadataStale || !this.#metadata) await this.#refreshMetadata().catch(() => {})
    const byLeader = this.#assignedByLeader()
    if (closing) for (const leader of this.#sessions.keys()) if (!byLeader.has(leader)) byLeader.set(leader, new Set())
    const results = await Promise.all(
      [...byLeader].map(([leader, partitions]) => this.#acknowledgeTo(leader, partitions, closing))
    )
    return results.flat()
  }

  /**
   * One ShareAcknowledge to `leader`: the pending acknowledgements of `partitions`, or, for a renewal, the given
   * renewals (alone in their request: is_renew_ack marks the whole request).
   */
  #acknowledgeTo(
    leader: number,
    partitions: Set<string> | Map<string, Map<bigint, number>>,
    closing: boolean,
    renewing = false
  ): Promise<AcknowledgementFailure[]> {
    const session = this.#session(leader)
    return session.run(async () => {
      if (!session.open) return []
      const sent = new Map<string, Map<bigint, number>>()
      if (partitions instanceof Map) {
        for (const [key, acks] of partitions) sent.set(key, acks)
      } else {
        for (const key of partitions) {
          const acks = this.#takePending(key)
          if (acks) sent.set(key, acks)
        }
      }
      if (sent.size === 0 && !closing) return []
      const topics = new Map<string, ShareTopicRequest>()
      for (const [key, acks] of sent) {
        const [topicId, partition] = splitKey(key)
        const entry = topics.get(topicId) ?? { topicId, partitions: [] }
        entry.partitions.push({ partitionIndex: partition, acknowledgementBatches: toAcknowledgementBatches(acks) })
        topics.set(topicId, entry)
      }
      const broker = this.#metadata?.brokers.get(leader)
      try {
        if (!broker) throw new KafkaRequestError('ShareAcknowledge', `broker ${leader} is not in the metadata`)
        const connection = await getConnection(this.#base, broker)
        const args = {
          groupId: this.groupId,
          memberId: this.memberId,
          shareSessionEpoch: closing ? -1 : session.epoch,
          topics: [...topics.values()]
        }
        const response: ShareAcknowledgeResponse = renewing
          ? await shareAcknowledgeV2.async(connection, { ...args, isRenewAck: true })
          : await shareAcknowledge.async(connection, args)
        if (response.acquisitionLockTimeoutMs > 0) this.#lockTimeoutMs = response.acquisitionLockTimeoutMs
        if (closing) session.reset()
        else session.advance()
        const failures: AcknowledgementFailure[] = []
        for (const t of response.responses) {
          const topic = this.#topicName(t.topicId) ?? t.topicId
          for (const p of t.partitions) {
            if (p.errorCode === 0) continue
            const failure = { topic, partition: p.partitionIndex, error: errorName(p.errorCode) }
            this.#options.onAcknowledgementError?.(failure)
            failures.push(failure)
          }
        }
        return failures
      } catch (error) {
        if (!renewing) for (const [key, acks] of sent) this.#restore(key, acks)
        await this.#onRequestFailure('ShareAcknowledge', session, error)
        return []
      }
    })
  }
}

function recordKey(record: { topic: string; partition: number; offset: bigint }): string {
  return `${record.topic}\0${record.partition}\0${record.offset}`
}

function splitKey(key: string): [topicId: string, partition: number] {
  const at = key.lastIndexOf(':')
  return [key.slice(0, at), Number(key.slice(at + 1))]
}

function isRetriable(error: unknown): boolean {
  const translated = translateKafkaError(error, { operation: 'share' })
  return 'retriable' in translated && translated.retriable === true
}
