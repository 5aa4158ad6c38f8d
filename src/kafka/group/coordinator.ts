import {
  Base,
  type Broker,
  type Connection,
  ConnectionPool,
  FindCoordinatorKeyTypes,
  findCoordinatorV4,
  heartbeatV4,
  joinGroupV9,
  leaveGroupV5,
  offsetCommitV8,
  offsetCommitV9,
  offsetFetchV8,
  offsetFetchV9,
  parseBroker,
  syncGroupV5
} from '@platformatic/kafka'
import { libraryOptions, type ResolvedConnectionOptions } from '../connection.ts'
import { backoffMs, pause } from '../deadline.ts'
import { loadTopicMetadata } from '../library.ts'
import { GroupAssignmentError, GroupClosedError, GroupProtocolUnsupportedError, GroupTimeoutError } from './errors.ts'
import { describeKafkaError, isClosedPool, isCoordinatorError, kafkaErrorName } from './kafka-error.ts'

/**
 * The group coordinator broker and the connections to it. Two lanes, because a broker answers one connection's
 * requests in order and holds JoinGroup / SyncGroup until the whole group has rejoined (up to the rebalance timeout):
 * - `join`: JoinGroup and SyncGroup, with a request timeout longer than the rebalance timeout;
 * - `control`: FindCoordinator, heartbeats, offset commit / fetch, LeaveGroup, metadata, with the normal timeout,
 *   so a commit or heartbeat is never stuck behind a JoinGroup the broker is holding.
 * Every GroupMember has its own coordinator link: members in one process must not share the join lane either.
 */

export type Lane = 'join' | 'control'

/** The protocol versions membership is written against, chosen once per link from the broker's ApiVersions. */
export interface GroupProtocol {
  joinGroup: typeof joinGroupV9.api
  syncGroup: typeof syncGroupV5.api
  heartbeat: typeof heartbeatV4.api
  leaveGroup: typeof leaveGroupV5.api
  offsetCommit: typeof offsetCommitV9.api
  offsetFetch: typeof offsetFetchV9.api
}

/** Lowest versions used: JoinGroup v9 brings skip_assignment, which lets a restarted static leader rejoin quietly. */
const REQUIRED_VERSIONS: Record<string, number> = {
  FindCoordinator: 4,
  JoinGroup: 9,
  SyncGroup: 5,
  Heartbeat: 4,
  LeaveGroup: 5,
  OffsetCommit: 8,
  OffsetFetch: 8
}

export interface CoordinatorOptions extends ResolvedConnectionOptions {
  groupId: string
  rebalanceTimeoutMs: number
}

export class GroupCoordinator {
  readonly groupId: string
  readonly #base: Base
  readonly #joinPool: ConnectionPool
  readonly #bootstrap: Broker[]
  readonly #retryDelayMs: number
  readonly #connection: ResolvedConnectionOptions
  #broker: Broker | undefined
  #finding: Promise<Broker> | undefined
  #protocol: Promise<GroupProtocol> | undefined

  constructor(options: CoordinatorOptions) {
    this.groupId = options.groupId
    this.#retryDelayMs = options.retryDelayMs
    this.#connection = options
    this.#bootstrap = options.brokers.map((b) => parseBroker(b))
    const base = libraryOptions(options, 'group')
    this.#base = new Base(base)
    // Same client id and security as the base client; only the request timeout differs (see the lanes above).
    this.#joinPool = new ConnectionPool(base.clientId, {
      connectTimeout: base.connectTimeout,
      requestTimeout: options.rebalanceTimeoutMs + options.requestTimeoutMs,
      ...(base.tls ? { tls: base.tls } : {}),
      ...(base.sasl ? { sasl: base.sasl } : {})
    })
  }

  /** Forget the coordinator (NOT_COORDINATOR, connection lost); the next request looks it up again. */
  invalidate(): void {
    this.#broker = undefined
  }

  get broker(): Broker | undefined {
    return this.#broker
  }

  /**
   * Sends one request to the coordinator, finding it first and again whenever it moved or is unreachable, with
   * backoff, until `deadline` (epoch ms). Errors that are not about the coordinator are the caller's to handle.
   */
  async request<T>(
    what: string,
    lane: Lane,
    send: (connection: Connection, protocol: GroupProtocol) => Promise<T>,
    deadline: number,
    signal: AbortSignal
  ): Promise<T> {
    let lastError: unknown
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw new GroupClosedError(this.groupId, what)
      try {
        const protocol = await this.protocol()
        const broker = await this.#find()
        const pool = lane === 'join' ? this.#joinPool : this.#base.connections
        const connection = await pool.get(broker)
        return await send(connection, protocol)
      } catch (error) {
        if (signal.aborted || isClosedPool(error)) throw new GroupClosedError(this.groupId, what, { cause: error })
        if (!isCoordinatorError(error)) throw error
        lastError = error
        // A coordinator that is loading the offsets topic stays the coordinator; everything else means look again.
        if (kafkaErrorName(error) !== 'COORDINATOR_LOAD_IN_PROGRESS') this.invalidate()
      }
      const delay = backoffMs(attempt, Math.max(this.#retryDelayMs, 50), 5_000)
      if (Date.now() + delay > deadline) {
        throw new GroupTimeoutError(
          this.groupId,
          `${what} did not reach the group coordinator before its deadline (last error: ${describeKafkaError(lastError)})`,
          { cause: lastError }
        )
      }
      await pause(delay, signal)
    }
  }

  /** Checks once that the broker speaks the versions we use; picks OffsetCommit / OffsetFetch v9 when available. */
  protocol(): Promise<GroupProtocol> {
    this.#protocol ??= this.#negotiate().catch((error) => {
      this.#protocol = undefined
      throw error
    })
    return this.#protocol
  }

  async #negotiate(): Promise<GroupProtocol> {
    const apis = await this.#base.listApis()
    const max = new Map(apis.map((api) => [api.name, api.maxVersion]))
    const missing = Object.entries(REQUIRED_VERSIONS)
      .filter(([name, version]) => (max.get(name) ?? -1) < version)
      .map(
        ([name, version]) => `${name} v${version} (broker has ${max.has(name) ? `up to v${max.get(name)}` : 'none'})`
      )
    if (missing.length > 0) {
      const brokers = this.#bootstrap.map((b) => `${b.host}:${b.port}`).join(', ')
      throw new GroupProtocolUnsupportedError(
        this.groupId,
        `broker ${brokers} is too old for Streamlane group membership; it needs ${missing.join(', ')}`
      )
    }
    const v9 = (name: string) => (max.get(name) ?? 0) >= 9
    return {
      joinGroup: joinGroupV9.api,
      syncGroup: syncGroupV5.api,
      heartbeat: heartbeatV4.api,
      leaveGroup: leaveGroupV5.api,
      // v8 and v9 take the same arguments; v9 only adds fields for KIP-848 groups, which we leave empty.
      offsetCommit: v9('OffsetCommit') ? offsetCommitV9.api : (offsetCommitV8.api as typeof offsetCommitV9.api),
      offsetFetch: v9('OffsetFetch') ? offsetFetchV9.api : (offsetFetchV8.api as typeof offsetFetchV9.api)
    }
  }

  #find(): Promise<Broker> {
    if (this.#broker) return Promise.resolve(this.#broker)
    this.#finding ??= (async () => {
      try {
        const connection = await this.#base.connections.getFirstAvailable(this.#bootstrap)
        const response = await findCoordinatorV4.api.async(connection, FindCoordinatorKeyTypes.GROUP, [this.groupId])
        const found = response.coordinators[0]
        if (!found) throw new GroupTimeoutError(this.groupId, 'FindCoordinator returned no coordinator')
        this.#broker = { host: found.host, port: found.port }
        return this.#broker
      } finally {
        this.#finding = undefined
      }
    })()
    return this.#finding
  }

  /** Partition count of every topic, read fresh (the leader assigns from it). Unknown topics are an error. */
  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    try {
      const deadline = Date.now() + this.#connection.requestTimeoutMs
      const metadata = await loadTopicMetadata(this.#base, topics, this.#connection, deadline)
      const counts = new Map<string, number>()
      for (const topic of topics) counts.set(topic, metadata.topics.get(topic)?.partitionsCount ?? 0)
      return counts
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new GroupAssignmentError(this.groupId, `cannot assign partitions of ${topics.join(', ')}: ${reason}`, {
        cause: error
      })
    }
  }

  /** Fails an in-flight JoinGroup / SyncGroup at once; used by close, after which the join lane is gone. */
  async closeJoinLane(): Promise<void> {
    await this.#joinPool.close().catch(() => {})
  }

  async close(): Promise<void> {
    await this.closeJoinLane()
    await this.#base.close().catch(() => {})
  }
}
