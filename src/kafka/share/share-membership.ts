import { randomUUID } from 'node:crypto'
import { findErrorBy } from '@platformatic/kafka'
import type { ResolvedConnectionOptions } from '../connection.ts'
import { pause } from '../deadline.ts'
import { GroupCoordinator } from '../group/coordinator.ts'
import { GroupJoinError, GroupProtocolUnsupportedError } from '../group/errors.ts'
import { anyKafkaErrorName, describeKafkaError } from '../group/kafka-error.ts'
import { shareGroupHeartbeat } from './share-apis.ts'

/**
 * Membership of one share group (KIP-932) through ShareGroupHeartbeat: join with epoch 0, heartbeat at the interval
 * the coordinator asks for, take the assignment it hands out (topic id -> partitions; with more members than
 * partitions several members get the same partition, that is the point), rejoin when fenced, leave with epoch -1.
 * There is no rebalance barrier: a new assignment applies at once, records stay acquired by the member that fetched
 * them until acknowledged or their lock expires.
 */

/** Kafka error names that mean "this member is no longer known at this epoch": join again, same member id. */
const REJOIN = new Set(['UNKNOWN_MEMBER_ID', 'FENCED_MEMBER_EPOCH'])
/** Refusals no retry fixes. */
const FATAL = new Set([
  'GROUP_AUTHORIZATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'INVALID_REQUEST',
  'GROUP_MAX_SIZE_REACHED',
  'INCONSISTENT_GROUP_PROTOCOL',
  'GROUP_ID_NOT_FOUND',
  'UNSUPPORTED_VERSION',
  'INVALID_GROUP_ID'
])

export interface ShareMembershipOptions extends ResolvedConnectionOptions {
  groupId: string
  topics: string[]
  rackId?: string | undefined
  /** Called with the failure that stopped the membership (a refusal retrying cannot fix). */
  onFatal: (error: Error) => void
}

/** A Kafka member id: 16 random bytes, base64url without padding, as Kafka's clients generate them. */
function newMemberId(): string {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url')
}

export class ShareMembership {
  readonly memberId = newMemberId()
  readonly #options: ShareMembershipOptions
  readonly #coordinator: GroupCoordinator
  readonly #stop = new AbortController()
  #epoch = 0
  #intervalMs = 1_000
  #assignment = new Map<string, number[]>()
  #loop: Promise<void> | undefined

  constructor(options: ShareMembershipOptions) {
    this.#options = options
    this.#coordinator = new GroupCoordinator({ ...options, rebalanceTimeoutMs: options.requestTimeoutMs })
  }

  get groupId(): string {
    return this.#options.groupId
  }

  get memberEpoch(): number {
    return this.#epoch
  }

  /** Assigned partitions by topic id; replaced (never mutated) when the coordinator sends a new assignment. */
  get assignment(): ReadonlyMap<string, number[]> {
    return this.#assignment
  }

  /** Joins (first heartbeat) and keeps heartbeating in the background until leave(). */
  async join(): Promise<void> {
    await this.#heartbeat()
    this.#loop = this.#run()
  }

  /** The member is unknown to the coordinator (a fetch said so): join again at the next heartbeat, at once. */
  rejoin(): void {
    this.#epoch = 0
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal
    let failures = 0
    while (!signal.aborted) {
      // Until the first assignment arrives (the coordinator computes it after the join), ask again soon rather than
      // after a whole interval (5 s by default): a new instance starts working within a fraction of a second.
      const waiting = failures > 0 || this.#assignment.size === 0
      await pause(waiting ? Math.min(this.#intervalMs, 250) : this.#intervalMs, signal).catch(() => {})
      if (signal.aborted) return
      try {
        await this.#heartbeat()
        failures = 0
      } catch (error) {
        if (signal.aborted) return
        const name = anyKafkaErrorName(error)
        if (name && FATAL.has(name)) {
          this.#options.onFatal(this.#refusal(error, name))
          return
        }
        failures++
      }
    }
  }

  async #heartbeat(): Promise<void> {
    const { groupId, topics, rackId, requestTimeoutMs } = this.#options
    const joining = this.#epoch === 0
    const deadline = Date.now() + requestTimeoutMs
    try {
      const response = await this.#coordinator.request(
        'ShareGroupHeartbeat',
        'control',
        (connection) =>
          shareGroupHeartbeat.async(
            connection,
            groupId,
            this.memberId,
            this.#epoch,
            rackId ?? null,
            joining ? topics : null
          ),
        deadline,
        this.#stop.signal
      )
      this.#epoch = response.memberEpoch
      this.#intervalMs = response.heartbeatIntervalMs > 0 ? response.heartbeatIntervalMs : this.#intervalMs
      if (response.assignment) {
        this.#assignment = new Map(response.assignment.map((t) => [t.topicId, [...t.partitions].sort((a, b) => a - b)]))
      }
    } catch (error) {
      const name = anyKafkaErrorName(error)
      if (name && REJOIN.has(name)) this.#epoch = 0
      if (joining && name && FATAL.has(name)) throw this.#refusal(error, name)
      throw error
    }
  }

  #refusal(error: unknown, name: string): Error {
    const groupId = this.#options.groupId
    if (name === 'UNSUPPORTED_VERSION' || name === 'GROUP_ID_NOT_FOUND') {
      return new GroupProtocolUnsupportedError(
        groupId,
        `the broker refused share group ${groupId} (${describeKafkaError(error)}${serverMessage(error)}): either the id is taken by a consumer group (use another applicationId / groupId) or the broker lacks share groups (Apache Kafka 4.1+ with the share.version feature enabled: kafka-features.sh upgrade --feature share.version=1)`
      )
    }
    return new GroupJoinError(groupId, `share group ${groupId} refused member: ${describeKafkaError(error)}`, {
      cause: error
    })
  }

  /** Stops heartbeating and leaves the group (epoch -1), so its partitions are reassigned at once. */
  async leave(): Promise<void> {
    this.#stop.abort()
    await this.#loop
    const { groupId, requestTimeoutMs } = this.#options
    if (this.#epoch > 0) {
      const leaving = new AbortController()
      await this.#coordinator
        .request(
          'ShareGroupHeartbeat (leave)',
          'control',
          (connection) => shareGroupHeartbeat.async(connection, groupId, this.memberId, -1, null, null),
          Date.now() + requestTimeoutMs,
          leaving.signal
        )
        .catch(() => {
          // Leaving is best effort: the session timeout removes the member anyway.
        })
    }
    this.#epoch = -1
    await this.#coordinator.close()
  }
}

/** The broker's own error text, when it sent one (the library keeps it on the protocol error). */
function serverMessage(error: unknown): string {
  const found = error instanceof Error ? findErrorBy(error, 'code', 'PLT_KFK_PROTOCOL') : null
  const text = (found as { serverErrorMessage?: unknown } | null)?.serverErrorMessage
  return typeof text === 'string' && text ? `: ${text}` : ''
}
