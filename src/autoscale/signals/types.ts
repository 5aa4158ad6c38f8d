/**
 * What the autoscaler knows about one consumer group at one moment. Offsets and lags are plain numbers, not bigint:
 * they travel as JSON (metrics-api, logs) and feed floating-point policy arithmetic, and a log would need centuries at
 * a million records per second to pass 2^53.
 */

/** Where a partition's lag was counted from. */
export type LagBasis =
  /** end offset - committed offset: the normal case. */
  | 'committed'
  /**
   * The group never committed on this partition: lag = end offset - log-start offset. Counting from 0 (as KEDA's
   * `earliest` does, kedacore/keda#7936) would include records retention already deleted and overstate the work.
   */
  | 'no-commit'
  /** The committed offset fell behind the log start (retention deleted unread records): only what remains counts. */
  | 'committed-before-log-start'

export interface PartitionSignal {
  topic: string
  partition: number
  logStartOffset: number
  endOffset: number
  /** null when the group has no committed offset for this partition. */
  committedOffset: number | null
  lag: number
  lagBasis: LagBasis
}

export interface MemberSignal {
  memberId: string
  groupInstanceId?: string
  clientId: string
  host: string
  assignment: { topic: string; partitions: number[] }[]
}

/**
 * The most members that can hold work at once, and how the scaler knows it (see tasks.ts).
 *
 *  - `assignment`: the active tasks of a Streamlane app (sub-topology x partition; co-partitioned topics share a
 *    task), read from the members' assignment userData in this snapshot;
 *  - `last-assignment`: the same, as last read for this group, while the coordinator shows no assignment (the group
 *    is rebalancing or has no members, e.g. at zero);
 *  - `partitions`: the partitions of the measured topics, for any other group (each partition is assigned on its own)
 *    and for a Streamlane group whose assignment was never seen.
 */
export interface TaskCount {
  count: number
  basis: 'assignment' | 'last-assignment' | 'partitions'
  /** Tasks per sub-topology id, when learned from an assignment. */
  subtopologies?: Record<string, number>
}

/** One read of the brokers: offsets and membership, no history. */
export interface GroupSnapshot {
  groupId: string
  /** Milliseconds since the epoch when the offsets were read (after they came back). */
  at: number
  /** Coordinator state: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead (or what the broker says). */
  state: string
  topics: string[]
  partitions: PartitionSignal[]
  members: MemberSignal[]
  /** The cap on useful replicas: active tasks of a Streamlane app, else the measured partitions. */
  tasks: TaskCount
  totalLag: number
  /** True when no partition of the measured topics has a committed offset: lag counts from the log start. */
  noCommittedOffsets: boolean
  /** The group was unknown to the coordinator and `allowUnknownGroup` let it through (lag from the log start). */
  unknownGroup: boolean
  /**
   * `share` for a share group (share-snapshot.ts): its members all fetch from every partition, so the partition count
   * caps nothing; absent for a consumer group.
   */
  groupType?: 'share'
}

/** Rates over the sliding window; null until the window holds two samples far enough apart to say anything. */
export interface GroupRates {
  /** Records per second appended to the measured partitions (end-offset growth). */
  arrivalRate: number | null
  /** Records per second the group committed (committed-offset growth): its observed processing rate. */
  commitRate: number | null
  /** Seconds of history the rates are computed over. */
  windowSeconds: number
}

/**
 * What the Streamlane instances of the group said about themselves (see instance-report.ts), aggregated over the
 * reports that are still fresh. All fields are absent for groups that do not report (any non-Streamlane consumer).
 */
export interface InstanceSignals {
  /** How many instances have a fresh report. */
  reporting: number
  /** Mean of the instances' true processing rates: records per second of busy time (DS2). */
  trueRatePerInstance?: number
  /** Sum of the instances' true processing rates. */
  trueRateTotal?: number
  /** Mean over instances with records in flight of records in flight / age of the oldest: a bound on the rate. */
  inFlightRateBound?: number
  rebalanceInProgress: boolean
  restorationInProgress: boolean
  /** Fewest standby replicas any task has; bounds how many instances a scale-in may remove at once. */
  standbyReplicas?: number
  /** Least caught-up warm-up task, 0..1; absent when no warm-up is under way. */
  warmupProgress?: number
}

export interface GroupSignals {
  snapshot: GroupSnapshot
  rates: GroupRates
  instances: InstanceSignals
}
