/**
 * From a load expressed in replicas' worth of work (`need`, e.g. 4.73) to a whole replica count, given that work comes
 * in partitions: a partition is processed by one replica at a time, so a replica holding more partitions than its
 * share is the bottleneck. With 12 evenly loaded partitions, 5 replicas leave two of them holding 3 partitions, which
 * is no more throughput than 4 replicas give; the useful counts are those where ceil(partitions / replicas) changes.
 */
export interface ReplicaCount {
  replicas: number
  /** `need` exceeded the partition count; `replicas` is the partition count. */
  capped: boolean
  /** Most partitions one replica holds at this count (balanced assignment). */
  partitionsPerReplica: number
}

/** Slack for floating-point noise: need = 12 / 5 must allow 5 partitions per replica, not 4.999999. */
const EPSILON = 1e-9

export function replicasFor(need: number, partitions: number, partitionAware: boolean): ReplicaCount {
  if (!(need > 0)) return { replicas: 0, capped: false, partitionsPerReplica: 0 }
  if (need > partitions + EPSILON) return { replicas: partitions, capped: true, partitionsPerReplica: 1 }
  if (!partitionAware) {
    const replicas = Math.ceil(need - EPSILON)
    return { replicas, capped: false, partitionsPerReplica: Math.ceil(partitions / replicas) }
  }
  // Each replica keeps up with at most `perReplica` partitions (each carries need / partitions replicas of work);
  // the fewest replicas that leave no one with more than that is ceil(partitions / perReplica).
  const perReplica = Math.max(1, Math.floor(partitions / need + EPSILON))
  const replicas = Math.ceil(partitions / perReplica)
  return { replicas, capped: false, partitionsPerReplica: perReplica }
}
