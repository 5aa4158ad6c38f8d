/**
 * Commits while records of asynchronous processors are in flight (see RecordScheduler): what a commit must wait for,
 * how long a revocation may wait, and what it gives up when a record outlives the wait. Only finished records are
 * committed; a record in flight is never skipped.
 */
import type { RevokeContext } from '../kafka/group/index.ts'
import type { StreamsConfig } from './config.ts'
import type { TaskManager } from './task-manager.ts'

export interface InFlightCommitOptions {
  tasks: Pick<TaskManager, 'settle' | 'taskIds' | 'stateOf'>
  exactlyOnce: boolean
  /** Commits the given tasks (under exactly-once the transaction holds every task). */
  commit: (taskIds: string[]) => Promise<void>
}

/**
 * Waits, at most `waitMs`, for the records in flight that a commit of `ids` needs finished (exactly-once: in every
 * task, one transaction holds them all; at-least-once: in those tasks), then commits what it can. Returns the tasks
 * of `ids` still busy (their record in flight is not committed), and those that could not be committed at all:
 * at-least-once, tasks with stores still busy (a stateless task's finished records commit while one is in flight,
 * a store flushes only at a record boundary); exactly-once, all of `ids` when any task is still busy.
 */
export async function commitSettled(
  options: InFlightCommitOptions,
  ids: string[],
  waitMs: number
): Promise<{ busy: string[]; uncommitted: string[] }> {
  const { tasks, exactlyOnce } = options
  const stillBusy = await tasks.settle(exactlyOnce ? tasks.taskIds : ids, waitMs)
  const busy = ids.filter((id) => stillBusy.includes(id))
  if (exactlyOnce && stillBusy.length > 0) return { busy, uncommitted: ids }
  const uncommitted = busy.filter((id) => tasks.stateOf(id) !== undefined)
  await options.commit(ids.filter((id) => !uncommitted.includes(id)))
  return { busy, uncommitted }
}

/**
 * How long a revocation waits for records in flight: half the rebalance timeout (the callback must end within it,
 * commit included, or the member leaves the group), and at close half the shutdown timeout when that is shorter.
 */
export function inFlightWaitMs(
  config: Pick<StreamsConfig, 'rebalanceTimeoutMs' | 'shutdownTimeoutMs'>,
  reason: RevokeContext['reason']
): number {
  const { rebalanceTimeoutMs, shutdownTimeoutMs } = config
  return Math.floor(reason === 'close' ? Math.min(rebalanceTimeoutMs, shutdownTimeoutMs) / 2 : rebalanceTimeoutMs / 2)
}
