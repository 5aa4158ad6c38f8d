import { Base } from '@platformatic/kafka'
import { ConfigError } from '../../errors.ts'
import { libraryOptions, resolveConnectionOptions } from '../connection.ts'
import { pause } from '../deadline.ts'
import { KafkaClosedError, KafkaRequestError, translateKafkaError } from '../errors.ts'
import { anyKafkaErrorName } from '../group/kafka-error.ts'
import { getConnection } from '../library.ts'
import { AcknowledgementLedger, addRequestPartition, type PartitionAcknowledgements } from './acknowledgement-ledger.ts'
import type { AcknowledgeType } from './acknowledgements.ts'
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
import { acquiredRecords } from './share-fetch-records.ts'
import { ShareLeaders } from './share-leaders.ts'
import { ShareMembership } from './share-membership.ts'
import { ShareSession, sessionPartitionKey, splitSessionPartitionKey } from './share-session.ts'
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
 *
 * What the member owes the brokers is the AcknowledgementLedger's; where partitions lead, ShareLeaders'.
 */

/** Top-level ShareFetch / ShareAcknowledge errors after which the session is gone and is opened again. */
const SESSION_LOST = new Set(['SHARE_SESSION_NOT_FOUND', 'INVALID_SHARE_SESSION_EPOCH', 'UNKNOWN_MEMBER_ID'])

export function createShareConsumer(options: ShareConsumerOptions): KafkaShareConsumer {
  return new ShareConsumer(options)
}

class ShareConsumer implements KafkaShareConsumer {
  readonly groupId: string
  readonly #resolved: ReturnType<typeof resolveConnectionOptions>
  readonly #options: ShareConsumerOptions
  readonly #mode: AcknowledgementMode
  readonly #base: Base
  readonly #membership: ShareMembership
  readonly #sessions = new Map<number, ShareSession>()
  readonly #ledger = new AcknowledgementLedger()
  readonly #leaders: ShareLeaders
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
    this.#leaders = new ShareLeaders(this.#base, options.topics, this.#resolved)
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
      const topic = this.#leaders.topicName(topicId)
      if (topic) for (const partition of partitions) out.push({ topic, partition })
    }
    return out
  }

  async poll(timeoutMs = 1_000, maxRecords = this.#options.maxRecords ?? 500): Promise<ShareRecord[]> {
    this.#check('poll')
    this.#joined ??= this.#membership.join()
    await this.#joined
    if (this.#mode === 'implicit') this.#ledger.acknowledgeDelivered('accept')
    const deadline = Date.now() + timeoutMs
    for (;;) {
      this.#check('poll')
      const leaders = this.#leaders
      if (leaders.stale || leaders.anyUnknown(this.#membership.assignment.keys())) await leaders.refresh()
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
    this.#ledger.acknowledge(record, type)
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
    const byLeader = new Map<number, Map<string, PartitionAcknowledgements>>()
    for (const record of records) {
      // A record acknowledged meanwhile is no longer acquired: nothing to renew.
      const delivered = this.#ledger.deliveryOf(record)
      if (!delivered) continue
      const leader = this.#leaders.leaderOf(delivered.topicId, record.partition)
      if (leader < 0) continue
      const partitions = byLeader.get(leader) ?? new Map<string, PartitionAcknowledgements>()
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
    if (this.#mode === 'implicit') this.#ledger.acknowledgeDelivered('accept')
    return this.#sendAcknowledgements(false)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#ledger.acknowledgeDelivered(this.#mode === 'implicit' ? 'accept' : 'release')
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

  /** Assigned partitions and partitions with pending acknowledgements, grouped by leader broker id. */
  #assignedByLeader(): Map<number, Set<string>> {
    const partitions: [string, number][] = []
    for (const [topicId, assigned] of this.#membership.assignment)
      for (const p of assigned) partitions.push([topicId, p])
    for (const key of this.#ledger.pendingPartitions()) partitions.push(splitSessionPartitionKey(key))
    return this.#leaders.byLeader(partitions)
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
      const sent = new Map<string, PartitionAcknowledgements>()
      const topics = new Map<string, ShareTopicRequest>()
      for (const key of partitions) {
        // Acknowledgements cannot ride on the request that opens a session; they wait for the next one.
        const acks = opening ? undefined : this.#ledger.take(key)
        if (acks) sent.set(key, acks)
        if (!opening && !acks && session.partitions.has(key)) continue
        addRequestPartition(topics, key, acks)
      }
      const forgotten = new Map<string, number[]>()
      for (const key of session.partitions) {
        if (partitions.has(key)) continue
        const [topicId, partition] = splitSessionPartitionKey(key)
        forgotten.set(topicId, [...(forgotten.get(topicId) ?? []), partition])
      }
      let response: ShareFetchResponse
      try {
        const broker = this.#leaders.broker(leader)
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
        for (const [key, acks] of sent) this.#ledger.restore(key, acks)
        return this.#onRequestFailure('ShareFetch', session, error)
      }
      session.advance()
      for (const key of partitions) session.partitions.add(key)
      for (const [topicId, parts] of forgotten)
        for (const p of parts) session.partitions.delete(sessionPartitionKey(topicId, p))
      if (response.acquisitionLockTimeoutMs > 0) this.#lockTimeoutMs = response.acquisitionLockTimeoutMs
      return acquiredRecords(response, {
        leaders: this.#leaders,
        ledger: this.#ledger,
        onAcknowledgementError: this.#options.onAcknowledgementError
      })
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
    this.#leaders.stale = true
    if (name === 'UNKNOWN_MEMBER_ID') this.#membership.rejoin()
    if ((name && SESSION_LOST.has(name)) || isRetriable(error)) {
      await pause(Math.max(this.#resolved.retryDelayMs, 50))
      return []
    }
    throw translateKafkaError(error, { operation: what, groupId: this.groupId, brokers: this.#resolved.brokers })
  }

  /** ShareAcknowledge to every leader with pending acknowledgements; `closing` ends the sessions (epoch -1). */
  async #sendAcknowledgements(closing: boolean): Promise<AcknowledgementFailure[]> {
    if (this.#leaders.stale || !this.#leaders.loaded) await this.#leaders.refresh().catch(() => {})
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
    partitions: Set<string> | Map<string, PartitionAcknowledgements>,
    closing: boolean,
    renewing = false
  ): Promise<AcknowledgementFailure[]> {
    const session = this.#session(leader)
    return session.run(async () => {
      if (!session.open) return []
      const sent = new Map<string, PartitionAcknowledgements>()
      if (partitions instanceof Map) {
        for (const [key, acks] of partitions) sent.set(key, acks)
      } else {
        for (const key of partitions) {
          const acks = this.#ledger.take(key)
          if (acks) sent.set(key, acks)
        }
      }
      if (sent.size === 0 && !closing) return []
      const topics = new Map<string, ShareTopicRequest>()
      for (const [key, acks] of sent) addRequestPartition(topics, key, acks)
      const broker = this.#leaders.broker(leader)
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
          const topic = this.#leaders.topicName(t.topicId) ?? t.topicId
          for (const p of t.partitions) {
            if (p.errorCode === 0) continue
            const failure = { topic, partition: p.partitionIndex, error: errorName(p.errorCode) }
            this.#options.onAcknowledgementError?.(failure)
            failures.push(failure)
          }
        }
        return failures
      } catch (error) {
        if (!renewing) for (const [key, acks] of sent) this.#ledger.restore(key, acks)
        await this.#onRequestFailure('ShareAcknowledge', session, error)
        return []
      }
    })
  }
}

function isRetriable(error: unknown): boolean {
  const translated = translateKafkaError(error, { operation: 'share' })
  return 'retriable' in translated && translated.retriable === true
}
