import { assignSticky } from './assignment.ts'
import { type Cluster, commitPartition, type GroupProtocol, membersOf, type Pod, removePod } from './cluster.ts'

interface Warmup {
  pod: number
  startedAt: number
  readyAt: number
}

/**
 * Streamlane's protocol: cooperative rebalancing with warm-up and standby tasks (DESIGN.md, "Scaling never stalls
 * processing").
 *
 * A membership change is one rebalance in which no partition stops. The target assignment is computed; a partition
 * that must move goes at once to a member holding a caught-up standby copy (pausing only for the handover), and
 * otherwise first gets a warm-up copy on its new owner while the old owner keeps processing; when every warm-up has
 * caught up, a follow-up rebalance moves them. A member asked to leave keeps its partitions until they can move
 * without restoring; its LeaveGroup is the rebalance that moves them. After every move, standby copies are placed
 * again (`standbyReplicas` per partition, never on the owner), and a new copy restores in the background.
 *
 * Partitions nobody owns (the group was empty) cannot be warmed first: they are assigned at once and restore.
 */
export function cooperativeProtocol(standbyReplicas = 0): GroupProtocol {
  const warmups = new Map<number, Warmup>()
  /** Per partition: member holding a standby copy -> when that copy is (was) caught up. */
  const standbys = new Map<number, Map<number, number>>()
  let started = false

  function readyStandbyHolders(cluster: Cluster, partition: number): number[] {
    const holders = standbys.get(partition)
    if (!holders) return []
    return [...holders].filter(([, readyAt]) => readyAt <= cluster.t).map(([pod]) => pod)
  }

  function move(cluster: Cluster, partition: number, to: number): void {
    const from = cluster.owner[partition]
    commitPartition(cluster, partition)
    cluster.owner[partition] = to
    cluster.pausedUntil[partition] = cluster.t + cluster.scenario.cooperativeMovePauseSeconds
    const holders = standbys.get(partition) ?? new Map<number, number>()
    holders.delete(to)
    // The previous owner's store is as fresh as it gets: it is a caught-up standby if it stays.
    if (from !== null && from !== undefined) holders.set(from, cluster.t)
    standbys.set(partition, holders)
  }

  function plan(cluster: Cluster): void {
    const { scenario, t } = cluster
    const targets = membersOf(cluster).map((p) => p.id)
    const targetSet = new Set(targets)
    if (targets.length === 0) {
      warmups.clear()
      standbys.clear()
      for (const pod of membersOf(cluster, ['leaving'])) leave(cluster, pod)
      return
    }
    const desired = assignSticky(
      cluster.owner.map((o) => (o !== null && targetSet.has(o) ? o : null)),
      targets,
      (p) => readyStandbyHolders(cluster, p)
    )
    desired.forEach((owner, p) => {
      if (owner === null || owner === cluster.owner[p]) {
        warmups.delete(p)
        return
      }
      const standbyReadyAt = standbys.get(p)?.get(owner)
      if (cluster.owner[p] === null) {
        cluster.owner[p] = owner
        cluster.restoringUntil[p] = standbyReadyAt ?? t + scenario.restoreSeconds
        warmups.delete(p)
      } else if (standbyReadyAt !== undefined && standbyReadyAt <= t) {
        move(cluster, p, owner)
        warmups.delete(p)
      } else if (warmups.get(p)?.pod !== owner) {
        warmups.set(p, { pod: owner, startedAt: t, readyAt: standbyReadyAt ?? t + scenario.restoreSeconds })
      }
    })
    placeStandbys(cluster)
    releaseEmptyLeavers(cluster)
  }

  /**
   * Places `standbyReplicas` copies per partition, never on its owner or its warm-up target. First, copies go where
   * the next scale-in would send each partition: the policy removes at most standbyReplicas + 1 pods per step and
   * the newest go first, so the assignment after removing them is known now, and a copy placed there in advance
   * turns that scale-in into one rebalance with a one-second handover. Then existing copies stay where still valid
   * and balanced; missing ones go to the least-loaded, oldest members (the last to be removed).
   */
  function placeStandbys(cluster: Cluster): void {
    if (standbyReplicas === 0) {
      standbys.clear()
      return
    }
    const targetPods = membersOf(cluster)
    const age = new Map(targetPods.map((pod) => [pod.id, pod.createdAt * 1e6 + pod.id]))
    const targets = targetPods.map((p) => p.id)
    const load = new Map<number, number>(targets.map((m) => [m, 0]))
    const fairShare = Math.ceil((cluster.scenario.partitions * standbyReplicas) / targets.length)
    const newestOwnersFirst = cluster.owner
      .map((owner, p) => ({ p, owner, age: owner === null ? -Infinity : (age.get(owner) ?? -Infinity) }))
      .sort((a, b) => b.age - a.age || a.p - b.p)
    const next = nextScaleInOwners(cluster, targetPods)
    const kept = new Map<number, Map<number, number>>()
    for (const { p, owner } of newestOwnersFirst) {
      const holders = new Map<number, number>()
      const planned = next[p]
      // A planned copy must not overload its holder: upkeep beyond a fair share would slow its own partitions.
      const plannedFits =
        planned !== undefined && planned !== null && planned !== owner && load.get(planned)! < fairShare + 1
      if (plannedFits && planned !== warmups.get(p)?.pod) {
        holders.set(planned, standbys.get(p)?.get(planned) ?? cluster.t + cluster.scenario.restoreSeconds)
        load.set(planned, load.get(planned)! + 1)
      }
      for (const [pod, readyAt] of standbys.get(p) ?? new Map<number, number>()) {
        if (holders.has(pod)) continue
        const valid = age.has(pod) && pod !== owner && pod !== warmups.get(p)?.pod
        if (!valid || holders.size >= standbyReplicas || load.get(pod)! >= fairShare) continue
        holders.set(pod, readyAt)
        load.set(pod, load.get(pod)! + 1)
      }
      kept.set(p, holders)
    }
    for (const { p, owner } of newestOwnersFirst) {
      const holders = kept.get(p)!
      while (holders.size < standbyReplicas) {
        const chosen = targets
          .filter((m) => m !== owner && m !== warmups.get(p)?.pod && !holders.has(m))
          .sort((a, b) => load.get(a)! - load.get(b)! || age.get(a)! - age.get(b)!)[0]
        if (chosen === undefined) break
        holders.set(chosen, cluster.t + cluster.scenario.restoreSeconds)
        load.set(chosen, load.get(chosen)! + 1)
      }
    }
    standbys.clear()
    for (const [p, holders] of kept) standbys.set(p, holders)
  }

  /** Owners after the next scale-in step (the newest standbyReplicas + 1 pods gone), or [] when it would empty. */
  function nextScaleInOwners(cluster: Cluster, targetPods: readonly Pod[]): (number | null)[] {
    const step = standbyReplicas + 1
    if (targetPods.length <= step) return []
    const survivors = [...targetPods]
      .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id)
      .slice(0, targetPods.length - step)
      .map((pod) => pod.id)
    const survivorSet = new Set(survivors)
    return assignSticky(
      cluster.owner.map((o) => (o !== null && survivorSet.has(o) ? o : null)),
      survivors
    )
  }

  function leave(cluster: Cluster, pod: Pod): void {
    cluster.owner.forEach((owner, p) => {
      if (owner === pod.id) commitPartition(cluster, p)
    })
    for (const holders of standbys.values()) holders.delete(pod.id)
    removePod(cluster, pod)
  }

  /** Leaving members that own nothing leave within the rebalance under way; they cost no extra one. */
  function releaseEmptyLeavers(cluster: Cluster): void {
    for (const pod of membersOf(cluster, ['leaving'])) {
      if (!cluster.owner.includes(pod.id)) leave(cluster, pod)
    }
  }

  return {
    name: 'cooperative+warm-up',
    membersChanged(cluster: Cluster) {
      cluster.rebalances++
      plan(cluster)
    },
    tick(cluster: Cluster) {
      if (!started) {
        // The initial replicas have been running for a while: their standby copies exist and are caught up.
        started = true
        placeStandbys(cluster)
        for (const holders of standbys.values()) for (const pod of holders.keys()) holders.set(pod, cluster.t)
      }
      if (warmups.size === 0) return
      for (const w of warmups.values()) if (w.readyAt > cluster.t) return
      // The follow-up (probing) rebalance: every caught-up task moves with a short pause.
      cluster.rebalances++
      for (const [p, w] of warmups) move(cluster, p, w.pod)
      warmups.clear()
      placeStandbys(cluster)
      releaseEmptyLeavers(cluster)
    },
    rebalanceInProgress(cluster: Cluster) {
      return cluster.pausedUntil.some((until) => until > cluster.t)
    },
    warmupProgress(cluster: Cluster) {
      let least: number | undefined
      for (const w of warmups.values()) {
        const progress = Math.min(1, (cluster.t - w.startedAt) / Math.max(1, w.readyAt - w.startedAt))
        least = least === undefined ? progress : Math.min(least, progress)
      }
      return least
    },
    caughtUpStandbys(cluster: Cluster) {
      let fewest = standbyReplicas
      for (let p = 0; p < cluster.scenario.partitions; p++) {
        fewest = Math.min(fewest, readyStandbyHolders(cluster, p).length)
      }
      return fewest
    },
    standbyPartitions(_cluster: Cluster, pod: number) {
      let count = 0
      for (const holders of standbys.values()) if (holders.has(pod)) count++
      return count
    }
  }
}
