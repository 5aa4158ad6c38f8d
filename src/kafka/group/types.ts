import type { KafkaConnectionOptions } from '../connection.ts'

/** Partitions of one topic, ascending. */
export interface TopicPartitions {
  topic: string
  partitions: number[]
}

/** What the leader's assignor sees of one member: its consumer-protocol subscription, decoded. */
export interface MemberSubscription {
  memberId: string
  /** The static member's stable name (e.g. the pod name), or null for a dynamic member. */
  groupInstanceId: string | null
  topics: string[]
  /** The member's subscription userData (Streamlane: process id, query endpoint, task lags). */
  userData: Buffer
  /** Partitions the member owns right now and keeps processing through this rebalance. */
  ownedPartitions: TopicPartitions[]
  /** Generation in which `ownedPartitions` were assigned, -1 when it owns nothing. */
  generationId: number
}

/** One member's share, as the assignor returns it: its partitions and ITS OWN userData. */
export interface MemberAssignment {
  partitions: TopicPartitions[]
  userData: Buffer
}

export interface AssignorContext {
  groupId: string
  /** The generation this assignment is for. */
  generationId: number
  leaderId: string
}

/**
 * The leader-side assignment function: members and `{topic -> partition count}` of every subscribed topic in, a
 * share per member id out. Members missing from the result get nothing. A partition still owned by another member
 * is withheld from its new owner for this generation (cooperative rebalancing), see `leader-assignment.ts`.
 */
export type Assignor = (
  members: MemberSubscription[],
  partitionCounts: Map<string, number>,
  context: AssignorContext
) => Map<string, MemberAssignment> | Promise<Map<string, MemberAssignment>>

/** This member's current assignment. */
export interface GroupAssignment {
  generationId: number
  memberId: string
  partitions: TopicPartitions[]
  userData: Buffer
}

/** Passed to `onAssigned` after every completed rebalance. */
export interface AssignmentChange {
  assignment: GroupAssignment
  /** Partitions new to this member. */
  added: TopicPartitions[]
  /** Partitions given away in this rebalance (onRevoke already ran for them). */
  revoked: TopicPartitions[]
  /** Partitions kept; their tasks never stopped. */
  retained: TopicPartitions[]
}

export interface RevokeContext {
  /** `rebalance`: another member gets them next; `close`: this member is shutting down; `lost`: already gone. */
  reason: 'rebalance' | 'close' | 'lost'
  generationId: number
  memberId: string
}

/** The generation a request is made for; exactly-once needs it for TxnOffsetCommit. */
export interface Generation {
  generationId: number
  memberId: string
  groupInstanceId: string | null
  leaderId: string
  isLeader: boolean
}

/**
 * `created` -> `joining` (no assignment yet) -> `stable` <-> `rebalancing` (owned partitions keep running) ->
 * `leaving` -> `closed`; any state -> `failed` on an error the member cannot recover from.
 */
export type GroupState = 'created' | 'joining' | 'rebalancing' | 'stable' | 'leaving' | 'closed' | 'failed'

export interface GroupMemberEvents {
  state: [state: GroupState, previous: GroupState]
  /** JoinGroup completed: new generation, member id, leader. */
  joined: [generation: Generation]
  /** A rejoin started (heartbeat saw a rebalance, a revoke needs a follow-up, the caller asked, ...). */
  rebalance: [reason: string]
  assigned: [change: AssignmentChange]
  revoked: [partitions: TopicPartitions[], context: RevokeContext]
  lost: [partitions: TopicPartitions[], reason: string]
  /** A heartbeat sent at `sentAtMs` (epoch ms) was acknowledged: the session runs from then at the coordinator. */
  heartbeat: [generationId: number, sentAtMs: number]
  /** A recoverable problem (heartbeat failed, leave failed): logged by the runtime, no action needed. */
  warning: [error: Error]
  /** The member stopped for good; its partitions are no longer owned. */
  failed: [error: Error]
}

/** Connection options are the Kafka layer's shared ones (`src/kafka/connection.ts`). */
export interface GroupMemberOptions extends KafkaConnectionOptions {
  groupId: string
  /** Topics this member subscribes to; the leader's assignor sees them per member. */
  topics: string[]
  assign: Assignor
  /** Subscription userData, re-read at every join so it can carry fresh task lags. */
  userData?: Buffer | (() => Buffer | Promise<Buffer>)
  /** Static membership (`group.instance.id`, e.g. the pod name). */
  groupInstanceId?: string
  /** Default 45 000 (Kafka's); the broker must allow it (group.min/max.session.timeout.ms). */
  sessionTimeoutMs?: number
  /** How long the broker waits for all members to rejoin; also bounds each rebalance callback. Default 60 000. */
  rebalanceTimeoutMs?: number
  /** Default a fifteenth of the session timeout, at most 3 000 (defaultHeartbeatIntervalMs); below the session timeout. */
  heartbeatIntervalMs?: number
  /** Deadline of one whole join (retries across coordinator moves included). Default 300 000. */
  joinTimeoutMs?: number
  /** Deadline of one offset commit or fetch, retries included. Default 30 000. */
  offsetTimeoutMs?: number
  /** Deadline of each rebalance callback; default `rebalanceTimeoutMs`. */
  callbackTimeoutMs?: number
  /** Called with the partitions this member gives away, before anyone else may take them; awaited. */
  onRevoke?: (partitions: TopicPartitions[], context: RevokeContext) => void | Promise<void>
  /** Called after every completed rebalance with the full assignment and what changed; awaited. */
  onAssigned?: (change: AssignmentChange) => void | Promise<void>
  /** Called when partitions were lost without a chance to commit (session expired); defaults to onRevoke. */
  onLost?: (partitions: TopicPartitions[], context: RevokeContext) => void | Promise<void>
}

export interface OffsetToCommit {
  topic: string
  partition: number
  /** The next offset to read (last processed + 1). */
  offset: bigint
  metadata?: string | null
  leaderEpoch?: number
}

export interface CommittedOffset {
  topic: string
  partition: number
  /** -1n when the group has no committed offset for the partition. */
  offset: bigint
  metadata: string | null
  leaderEpoch: number
}
