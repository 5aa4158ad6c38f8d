import { assignSticky } from './assignment.ts'
import { type Cluster, commitPartition, type GroupProtocol, membersOf, type Pod, removePod } from './cluster.ts'

/**
 * The classic consumer protocol with an eager assignor, as a default Kafka consumer (and so a KEDA-scaled app) runs
 * it: any membership change revokes every partition from every member, the whole group stops for the rebalance, and a
 * partition that lands on a different member is restored there from its changelog before it is processed again.
 * Changes arriving while a rebalance is under way join that rebalance rather than start another.
 */
export function eagerProtocol(): GroupProtocol {
  let rebalanceEndsAt: number | null = null
  let previousOwners: (number | null)[] = []

  return {
    name: 'eager',
    membersChanged(cluster: Cluster, _joined: readonly Pod[], leaving: readonly Pod[]) {
      const { scenario, t } = cluster
      if (rebalanceEndsAt === null) {
        cluster.rebalances++
        rebalanceEndsAt = t + scenario.eagerRebalancePauseSeconds
        previousOwners = cluster.owner.slice()
        // Revoking commits everything first (auto-commit on revoke), then nothing runs until the new assignment.
        for (let p = 0; p < scenario.partitions; p++) {
          commitPartition(cluster, p)
          cluster.pausedUntil[p] = rebalanceEndsAt
        }
      }
      // A leaving consumer closes at once: its partitions are revoked with everyone else's.
      for (const pod of leaving) removePod(cluster, pod)
    },
    tick(cluster: Cluster) {
      if (rebalanceEndsAt === null || cluster.t < rebalanceEndsAt) return
      rebalanceEndsAt = null
      const members = membersOf(cluster).map((p) => p.id)
      const owners = assignSticky(previousOwners, members)
      owners.forEach((owner, p) => {
        if (owner !== null && owner !== previousOwners[p]) {
          cluster.restoringUntil[p] = cluster.t + cluster.scenario.restoreSeconds
        }
        cluster.owner[p] = owner
      })
    },
    rebalanceInProgress() {
      return rebalanceEndsAt !== null
    },
    warmupProgress() {
      return undefined
    }
  }
}
