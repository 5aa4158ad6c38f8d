import type { SimulationScenario } from './scenario.ts'

/**
 * The simulated world: one input topic's partitions, the pods of one consumer group, and what each second does to
 * them. A fluid model: records are real numbers, a busy replica processes exactly its capacity per second, shared
 * over its processable partitions in proportion to their backlog.
 */
export interface Pod {
  id: number
  createdAt: number
  /** When the pod's consumer joins the group (createdAt + podStartSeconds). */
  joinAt: number
  phase: 'starting' | 'member' | 'leaving'
  /** When it joined; its commits fall every commitIntervalSeconds after this. */
  joinedAt: number | null
  /** Records processed in the current second (for the self-reported true rate). */
  processedThisSecond: number
}

/** How the group reacts to members joining and leaving: eager (stop the world) or cooperative with warm-ups. */
export interface GroupProtocol {
  readonly name: string
  /** Members joined (consumers started) or were asked to leave (scale-in) during this second. */
  membersChanged(cluster: Cluster, joined: readonly Pod[], leaving: readonly Pod[]): void
  /** Progress of rebalances and warm-ups at the start of a second, before processing. */
  tick(cluster: Cluster): void
  rebalanceInProgress(cluster: Cluster): boolean
  /** Least caught-up warm-up (0..1), or undefined when none is under way. */
  warmupProgress(cluster: Cluster): number | undefined
  /** Standby copies the pod keeps up to date (they cost it capacity); absent when the protocol has none. */
  standbyPartitions?(cluster: Cluster, pod: number): number
  /** Fewest caught-up standby copies any partition has (what instances report as their standby replicas). */
  caughtUpStandbys?(cluster: Cluster): number
}

export interface Cluster {
  readonly scenario: SimulationScenario
  readonly protocol: GroupProtocol
  t: number
  readonly endOffset: number[]
  /** Next record each partition's owner will process. */
  readonly position: number[]
  readonly committed: number[]
  readonly owner: (number | null)[]
  /** A partition is not processed while t < pausedUntil (rebalance) or t < restoringUntil (state restoration). */
  readonly pausedUntil: number[]
  readonly restoringUntil: number[]
  pods: Pod[]
  nextPodId: number
  /** The replica count the scale target is set to (the HPA's current count). */
  specReplicas: number
  rebalances: number
  scaleEvents: number
}

export function createCluster(scenario: SimulationScenario, protocol: GroupProtocol): Cluster {
  const n = scenario.partitions
  const cluster: Cluster = {
    scenario,
    protocol,
    t: 0,
    endOffset: new Array(n).fill(0),
    position: new Array(n).fill(0),
    committed: new Array(n).fill(0),
    owner: new Array(n).fill(null),
    pausedUntil: new Array(n).fill(0),
    restoringUntil: new Array(n).fill(0),
    pods: [],
    nextPodId: 0,
    specReplicas: scenario.initialReplicas,
    rebalances: 0,
    scaleEvents: 0
  }
  // The initial replicas are already running and restored, with commit phases spread out as in a real group.
  for (let i = 0; i < scenario.initialReplicas; i++) {
    const joinedAt = -1 - ((i * 2) % scenario.commitIntervalSeconds)
    cluster.pods.push({
      id: cluster.nextPodId++,
      createdAt: joinedAt,
      joinAt: joinedAt,
      phase: 'member',
      joinedAt,
      processedThisSecond: 0
    })
  }
  const members = cluster.pods.map((p) => p.id)
  for (let p = 0; p < n; p++) cluster.owner[p] = members.length > 0 ? members[p % members.length]! : null
  return cluster
}

/** Sets the scale target's replica count: creates pods, or picks the newest ones to stop. */
export function setReplicas(cluster: Cluster, replicas: number): void {
  if (replicas === cluster.specReplicas) return
  cluster.specReplicas = replicas
  cluster.scaleEvents++
  const live = cluster.pods.filter((p) => p.phase !== 'leaving')
  for (let i = live.length; i < replicas; i++) {
    const t = cluster.t
    cluster.pods.push({
      id: cluster.nextPodId++,
      createdAt: t,
      joinAt: t + cluster.scenario.podStartSeconds,
      phase: 'starting',
      joinedAt: null,
      processedThisSecond: 0
    })
  }
  if (replicas >= live.length) return
  // Deployments and StatefulSets remove the newest pods first; a pod still starting simply disappears.
  const victims = [...live].sort((a, b) => b.createdAt - a.createdAt || b.id - a.id).slice(0, live.length - replicas)
  const leaving: Pod[] = []
  for (const pod of victims) {
    if (pod.phase === 'starting') cluster.pods = cluster.pods.filter((p) => p !== pod)
    else {
      pod.phase = 'leaving'
      leaving.push(pod)
    }
  }
  if (leaving.length > 0) cluster.protocol.membersChanged(cluster, [], leaving)
}

/** Commits a partition's position (on the commit interval, before a move, when its owner leaves). */
export function commitPartition(cluster: Cluster, partition: number): void {
  cluster.committed[partition] = cluster.position[partition]!
}

/** Removes a pod from the world (its consumer has left the group). */
export function removePod(cluster: Cluster, pod: Pod): void {
  cluster.pods = cluster.pods.filter((p) => p !== pod)
  cluster.owner.forEach((owner, p) => {
    if (owner === pod.id) cluster.owner[p] = null
  })
}

export function membersOf(cluster: Cluster, phases: Pod['phase'][] = ['member']): Pod[] {
  return cluster.pods.filter((p) => phases.includes(p.phase))
}

/** One simulated second. Arrivals, joins, protocol progress, processing, commits, in that order. */
export function advance(cluster: Cluster, arrivalRate: number): void {
  const { scenario } = cluster
  const t = cluster.t
  const perPartition = arrivalRate / scenario.partitions
  for (let p = 0; p < scenario.partitions; p++) cluster.endOffset[p]! += perPartition

  const joined = cluster.pods.filter((pod) => pod.phase === 'starting' && pod.joinAt <= t)
  for (const pod of joined) {
    pod.phase = 'member'
    pod.joinedAt = t
  }
  if (joined.length > 0) cluster.protocol.membersChanged(cluster, joined, [])
  cluster.protocol.tick(cluster)

  for (const pod of cluster.pods) {
    pod.processedThisSecond = 0
    if (pod.phase === 'starting') continue
    const mine: number[] = []
    let backlog = 0
    for (let p = 0; p < scenario.partitions; p++) {
      if (cluster.owner[p] !== pod.id || !processable(cluster, p)) continue
      mine.push(p)
      backlog += cluster.endOffset[p]! - cluster.position[p]!
    }
    if (backlog <= 0) continue
    const capacity = podCapacity(cluster, pod, arrivalRate)
    const share = Math.min(1, capacity / backlog)
    for (const p of mine) {
      const done = (cluster.endOffset[p]! - cluster.position[p]!) * share
      cluster.position[p]! += done
      pod.processedThisSecond += done
    }
  }

  for (const pod of cluster.pods) {
    if (pod.joinedAt === null || t <= pod.joinedAt) continue
    if ((t - pod.joinedAt) % scenario.commitIntervalSeconds !== 0) continue
    cluster.owner.forEach((owner, p) => {
      if (owner === pod.id) commitPartition(cluster, p)
    })
  }
}

/**
 * Records per second a pod can process: its capacity less the upkeep of its standby copies (a fraction of
 * processing their partitions' arrivals).
 */
export function podCapacity(cluster: Cluster, pod: Pod, arrivalRate: number): number {
  const { scenario } = cluster
  const standbys = cluster.protocol.standbyPartitions?.(cluster, pod.id) ?? 0
  const upkeep = (standbys * arrivalRate * scenario.standbyCostFraction) / scenario.partitions
  return Math.max(0, scenario.recordsPerSecondPerReplica - upkeep)
}

export function processable(cluster: Cluster, partition: number): boolean {
  return cluster.t >= cluster.pausedUntil[partition]! && cluster.t >= cluster.restoringUntil[partition]!
}

/** Records appended but not yet processed: what decides how late results are. */
export function backlogOf(cluster: Cluster): number {
  let sum = 0
  for (let p = 0; p < cluster.scenario.partitions; p++) sum += cluster.endOffset[p]! - cluster.position[p]!
  return sum
}

/** Per-partition consumer lag as the brokers report it: whole offsets, end - committed. */
export function committedLags(cluster: Cluster): number[] {
  return cluster.endOffset.map((end, p) => Math.max(0, Math.floor(end) - Math.floor(cluster.committed[p]!)))
}
