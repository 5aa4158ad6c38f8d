import type { Cluster, GroupProtocol } from './cluster.ts'

/**
 * An autoscaler under test. `step` runs once per simulated second after the world has advanced; it reads the cluster
 * as its signals would show it and calls `setReplicas` when it decides. `createProtocol` is the group protocol the
 * controlled app uses, since the two go together (a KEDA-scaled plain consumer is eager; a Streamlane app is
 * cooperative with warm-ups).
 */
export interface Controller {
  readonly name: string
  createProtocol(): GroupProtocol
  step(cluster: Cluster): void
}
