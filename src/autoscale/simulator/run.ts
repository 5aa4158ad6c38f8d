import { advance, backlogOf, type Cluster, createCluster, processable } from './cluster.ts'
import type { Controller } from './controller.ts'
import { checkScenario, type SimulationScenario } from './scenario.ts'
import type { LoadTrace } from './traces.ts'

/** One simulated second as the charts and the table see it. */
export interface TimelinePoint {
  t: number
  arrivalRate: number
  /** Records appended but not yet processed. */
  lag: number
  /** Pods that exist (starting, restoring, processing or handing over): what the cluster pays for. */
  replicas: number
}

export interface SimulationSummary {
  controller: string
  p50Lag: number
  p99Lag: number
  maxLag: number
  secondsOverTarget: number
  replicaSeconds: number
  scaleEvents: number
  rebalances: number
  /**
   * Partition-seconds in which a partition could not be processed while the group had pods: rebalance pauses,
   * restoration, or no owner yet. The cost of the rebalances, where their count alone hides it.
   */
  stalledPartitionSeconds: number
}

export interface SimulationResult {
  summary: SimulationSummary
  timeline: TimelinePoint[]
}

/**
 * Runs one controller over one trace, one-second ticks. Deterministic: the trace is fixed before the run and nothing
 * in the model draws random numbers or reads a clock.
 */
export function runSimulation(
  trace: LoadTrace,
  scenario: SimulationScenario,
  controller: Controller
): SimulationResult {
  checkScenario(scenario)
  const cluster = createCluster(scenario, controller.createProtocol())
  const timeline: TimelinePoint[] = []
  let stalled = 0
  for (let t = 0; t < trace.rates.length; t++) {
    cluster.t = t
    const arrivalRate = trace.rates[t]!
    advance(cluster, arrivalRate)
    timeline.push({ t, arrivalRate, lag: backlogOf(cluster), replicas: cluster.pods.length })
    stalled += stalledPartitions(cluster)
    controller.step(cluster)
  }
  return {
    timeline,
    summary: {
      ...summarize(controller.name, timeline, scenario.lagTargetRecords, cluster.scaleEvents, cluster.rebalances),
      stalledPartitionSeconds: stalled
    }
  }
}

function stalledPartitions(cluster: Cluster): number {
  if (cluster.pods.length === 0) return 0
  let count = 0
  for (let p = 0; p < cluster.scenario.partitions; p++) {
    if (cluster.owner[p] === null || !processable(cluster, p)) count++
  }
  return count
}

function summarize(
  controller: string,
  timeline: readonly TimelinePoint[],
  lagTarget: number,
  scaleEvents: number,
  rebalances: number
): Omit<SimulationSummary, 'stalledPartitionSeconds'> {
  const lags = timeline.map((p) => p.lag).sort((a, b) => a - b)
  return {
    controller,
    p50Lag: Math.round(percentile(lags, 0.5)),
    p99Lag: Math.round(percentile(lags, 0.99)),
    maxLag: Math.round(lags[lags.length - 1] ?? 0),
    secondsOverTarget: timeline.filter((p) => p.lag > lagTarget).length,
    replicaSeconds: timeline.reduce((sum, p) => sum + p.replicas, 0),
    scaleEvents,
    rebalances
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0
  const rank = Math.max(1, Math.ceil(q * sorted.length))
  return sorted[rank - 1]!
}
