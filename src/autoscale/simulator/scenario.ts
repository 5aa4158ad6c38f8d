import { SimulationInputError } from './errors.ts'

/**
 * The physics both controllers run against. The numbers are those of a modest stateful stream app on Kubernetes;
 * docs/autoscaling.md discusses them. Both controllers see exactly the same scenario: only the controller and the
 * group protocol its app uses differ.
 */
export interface SimulationScenario {
  /** Input partitions; the useful consumer count is capped by it. */
  partitions: number
  /** Records per second one replica processes when busy. */
  recordsPerSecondPerReplica: number
  /** From pod creation to the consumer joining the group (scheduling, image, JVM/Node start). */
  podStartSeconds: number
  /** Restoring one partition's state from its changelog before a new owner can process it. */
  restoreSeconds: number
  /** Eager rebalance: every partition of the group stops for this long (revoke all, rejoin, sync, reassign). */
  eagerRebalancePauseSeconds: number
  /** Cooperative move of a caught-up task: commit, revoke, assign, replay the small delta. Only moved partitions stop. */
  cooperativeMovePauseSeconds: number
  /** Each consumer commits its partitions' positions this often (auto.commit.interval.ms). */
  commitIntervalSeconds: number
  /** The lag (records not yet processed) the operator considers acceptable; "seconds over target" counts beyond it. */
  lagTargetRecords: number
  /**
   * Keeping a standby copy current (applying its changelog) costs this fraction of processing the partition's
   * arrivals, taken from the capacity of the replica that hosts it. Only apps with standby replicas pay it.
   */
  standbyCostFraction: number
  /** Replicas running (joined, restored) when the trace starts. */
  initialReplicas: number
}

export const DEFAULT_SCENARIO: Readonly<SimulationScenario> = Object.freeze({
  partitions: 12,
  recordsPerSecondPerReplica: 1000,
  podStartSeconds: 15,
  restoreSeconds: 30,
  eagerRebalancePauseSeconds: 5,
  cooperativeMovePauseSeconds: 1,
  commitIntervalSeconds: 5,
  lagTargetRecords: 20_000,
  standbyCostFraction: 0.3,
  initialReplicas: 2
})

/**
 * The default scenario with another standby upkeep (`streamlane simulate --standby-cost`): the 30% is an assumption,
 * bench/results/standby-upkeep.md measures it. A fraction from 0 to below 1; `option` names what to blame.
 */
export function withStandbyCost(fraction: number, option = 'standbyCostFraction'): SimulationScenario {
  if (!Number.isFinite(fraction) || fraction < 0 || fraction >= 1)
    throw new SimulationInputError(option, `"${fraction}" is not a fraction from 0 to below 1`)
  return { ...DEFAULT_SCENARIO, standbyCostFraction: fraction }
}

export function checkScenario(scenario: SimulationScenario): void {
  const integers: (keyof SimulationScenario)[] = ['partitions', 'commitIntervalSeconds', 'initialReplicas']
  for (const [key, value] of Object.entries(scenario) as [keyof SimulationScenario, number][]) {
    if (!Number.isFinite(value) || value < 0)
      throw new SimulationInputError(`scenario.${key}`, `${value} is not a number >= 0`)
    if (integers.includes(key) && !Number.isInteger(value)) {
      throw new SimulationInputError(`scenario.${key}`, `${value} is not a whole number`)
    }
  }
  if (scenario.partitions < 1) throw new SimulationInputError('scenario.partitions', 'at least 1')
  if (scenario.commitIntervalSeconds < 1) throw new SimulationInputError('scenario.commitIntervalSeconds', 'at least 1')
  if (scenario.recordsPerSecondPerReplica <= 0) {
    throw new SimulationInputError('scenario.recordsPerSecondPerReplica', 'must be positive')
  }
}
