import { ScalingSignalsError } from './errors.ts'

/** Offsets of one input partition as the brokers report them for the group. */
export interface PartitionLag {
  topic: string
  partition: number
  endOffset: number
  /** null when the group never committed on this partition. */
  committedOffset: number | null
  /** Records appended but not yet committed by the group (end - committed, or what the collector counted). */
  lag: number
}

/**
 * What Streamlane instances say about themselves. Offsets alone cannot tell a restoring pod from a slow one, or a
 * rebalance from a stall; these can. Every field is optional because groups that are not Streamlane apps never report.
 */
export interface InstanceSelfReport {
  /** Mean records per second of busy (non-waiting) time per instance: DS2's true processing rate. */
  trueRatePerReplica?: number
  /**
   * An upper bound on one replica's rate from the records it has in flight: a replica with c records in flight, the
   * oldest started T seconds ago, processes at most c / T records per second (while those records are typical). Known
   * before any record finishes, so a cold group inside its first slow record can still scale out.
   */
  inFlightRateBound?: number
  rebalanceInProgress?: boolean
  /** Active tasks are restoring state: they own partitions but process nothing. */
  restorationInProgress?: boolean
  /** Least caught-up warm-up copy, 0..1; absent when no warm-up is under way. */
  warmupProgress?: number
  /** Fewest standby replicas any task has; bounds how many instances one scale-in step may remove. */
  standbyReplicas?: number
}

/** Everything one decision looks at, measured at `atMs`. Time is an input: the policy never reads a clock. */
export interface ScalingSignals {
  /** Milliseconds (any epoch, but monotonic across calls) when the signals were measured. */
  atMs: number
  partitions: readonly PartitionLag[]
  /**
   * The most consumers that can hold work, and the unit of work partition-aware rounding counts in: the partition
   * count of the input topics, or the number of active tasks of a Streamlane app (the sum over its sub-topologies of
   * each one's task count; co-partitioned topics share a task, a repartition topic's sub-topology has a task per
   * partition). Defaults to `partitions.length`.
   */
  partitionCount?: number
  /**
   * What `partitionCount` counts, for the reason: `partitions` (the default), `tasks`, or `share-group replicas` (a
   * share group: every member fetches from every partition, so the cap is the configured maximum).
   */
  partitionCountUnit?: 'partitions' | 'tasks' | 'share-group replicas'
  /** Records per second appended to the input partitions over the sliding window; null until the window can say. */
  arrivalRate: number | null
  /** Records per second the group committed over the window (its observed processing rate); null likewise. */
  commitRate: number | null
  /** Replicas the scaler currently asks for (the HPA's current count): starting and restoring pods included. */
  currentReplicas: number
  /** Group members that own at least one partition and are processing it. Absent when unknown. */
  processingReplicas?: number
  instances?: InstanceSelfReport
}

/** Sum of the partitions' lags. */
export function totalLag(signals: ScalingSignals): number {
  let sum = 0
  for (const p of signals.partitions) sum += p.lag
  return sum
}

/** The consumer cap: explicit `partitionCount`, else the number of partitions measured. */
export function partitionCountOf(signals: ScalingSignals): number {
  return signals.partitionCount ?? signals.partitions.length
}

/**
 * Rejects signals no broker could have produced. The collector is another module and may have bugs; a NaN here would
 * otherwise flow into Math.ceil and come out as a replica count.
 */
export function validateSignals(signals: ScalingSignals): void {
  finite('signals.atMs', signals.atMs)
  nonNegativeInteger('signals.currentReplicas', signals.currentReplicas)
  if (signals.processingReplicas !== undefined) {
    nonNegativeInteger('signals.processingReplicas', signals.processingReplicas)
  }
  const count = partitionCountOf(signals)
  nonNegativeInteger('signals.partitionCount', count)
  if (count < 1) throw new ScalingSignalsError('signals.partitionCount', 'the group has no partitions to scale over')
  signals.partitions.forEach((p, i) => {
    nonNegative(`signals.partitions[${i}].lag`, p.lag)
    nonNegative(`signals.partitions[${i}].endOffset`, p.endOffset)
  })
  if (signals.arrivalRate !== null) nonNegative('signals.arrivalRate', signals.arrivalRate)
  if (signals.commitRate !== null) nonNegative('signals.commitRate', signals.commitRate)
  const self = signals.instances
  if (self?.trueRatePerReplica !== undefined) {
    nonNegative('signals.instances.trueRatePerReplica', self.trueRatePerReplica)
  }
  if (self?.inFlightRateBound !== undefined) {
    nonNegative('signals.instances.inFlightRateBound', self.inFlightRateBound)
  }
  if (self?.warmupProgress !== undefined) {
    nonNegative('signals.instances.warmupProgress', self.warmupProgress)
    if (self.warmupProgress > 1) {
      throw new ScalingSignalsError('signals.instances.warmupProgress', `${self.warmupProgress} is above 1`)
    }
  }
  if (self?.standbyReplicas !== undefined) nonNegativeInteger('signals.instances.standbyReplicas', self.standbyReplicas)
}

function finite(field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ScalingSignalsError(field, `${value} is not a number`)
}

function nonNegative(field: string, value: number): void {
  finite(field, value)
  if (value < 0) throw new ScalingSignalsError(field, `${value} is negative`)
}

function nonNegativeInteger(field: string, value: number): void {
  nonNegative(field, value)
  if (!Number.isInteger(value)) throw new ScalingSignalsError(field, `${value} is not a whole number`)
}
