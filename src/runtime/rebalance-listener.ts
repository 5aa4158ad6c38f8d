/**
 * What a rebalance means for the app's tasks (Kafka Streams' StreamsRebalanceListener): an assignment starts the
 * tasks it gives and the standbys around them; a revocation commits what its tasks finished and closes them, or, when
 * the partitions were lost, closes them without writing. Both run under the app's lock, between loop iterations.
 */
import { decodeAssignmentInfo } from '../assignment/index.ts'
import { StreamlaneError } from '../errors.ts'
import type { AssignmentChange, RevokeContext, TopicPartitions } from '../kafka/group/index.ts'
import type { AppMetrics, Logger } from '../observe/index.ts'
import type { GroupHostMap } from '../query/index.ts'
import type { TopicPartition } from '../topic-partition.ts'
import type { StreamsConfig } from './config.ts'
import { commitSettled, inFlightWaitMs } from './in-flight-commit.ts'
import type { MembershipGuard } from './membership-guard.ts'
import type { RunningApp } from './running-app.ts'

export interface RebalanceListenerOptions {
  config: StreamsConfig
  /** Told what each rebalance proves about this member's ownership of its tasks. */
  guard: MembershipGuard
  logger: Logger
  metrics: AppMetrics
  /** The host maps of the assignment, for interactive queries and the status page. */
  onHostMap(hostMap: GroupHostMap): void
  /** Called once an assignment is running (the app turns RUNNING when nothing restores). */
  onAssignmentApplied(running: RunningApp): void
  /** Whether processing stopped on an error: revoked tasks then close without committing. */
  failed(): boolean
  /** A timed commit of `taskIds`. */
  commit(running: RunningApp, taskIds: string[]): Promise<void>
}

function flatten(partitions: readonly TopicPartitions[]): TopicPartition[] {
  return partitions.flatMap(({ topic, partitions: numbers }) => numbers.map((partition) => ({ topic, partition })))
}

export class RebalanceListener {
  readonly #options: RebalanceListenerOptions
  readonly #log: Logger

  constructor(options: RebalanceListenerOptions) {
    this.#options = options
    this.#log = options.logger
  }

  async onAssigned(running: RunningApp, change: AssignmentChange): Promise<void> {
    const { tasks } = running
    const { config, guard, metrics } = this.#options
    // A SyncGroup just succeeded: the member owns what this assignment says, as of now.
    guard.assigned()
    const info = decodeAssignmentInfo(change.assignment.userData)
    if (info.errorCode !== 0) {
      throw new StreamlaneError(
        'STREAMLANE_ASSIGNMENT_ERROR',
        `group ${config.applicationId}: the leader could not assign tasks (error code ${info.errorCode}); see the leader's log`
      )
    }
    this.#options.onHostMap({ active: info.partitionsByHost, standby: info.standbyPartitionsByHost })
    // How long each step took (logged): after a pod loss they are on the critical path of the tasks that moved here.
    const started = performance.now()
    await running.replicas?.beforeActiveStart(info)
    const promoted = performance.now()
    // Every owned partition, not just the added ones: after a fencing closed all tasks, the same assignment comes back.
    const newTasks = await running.taskLifecycle.start(flatten(change.assignment.partitions))
    const activeStarted = performance.now()
    // In the background: opening the new standby copies must not delay the promoted tasks' first records.
    void running.replicas?.apply(info, [...tasks.groupByTask(flatten(change.revoked)).keys()])
    const ms = (from: number, to: number) => Math.round(to - from)
    this.#log.info(
      {
        generation: change.assignment.generationId,
        active: tasks.taskIds,
        added: newTasks,
        ms: { promoteStandbys: ms(started, promoted), startActive: ms(promoted, activeStarted) }
      },
      'assignment running'
    )
    metrics.rebalances.completed(change.assignment.generationId, tasks.taskIds.length)
    this.#options.onAssignmentApplied(running)
  }

  async onRevoke(running: RunningApp, partitions: TopicPartitions[], context: RevokeContext): Promise<void> {
    const { taskLifecycle, committer } = running
    const { config, guard } = this.#options
    // A revocation in a rebalance follows a SyncGroup that succeeded: the member is in the group right now.
    if (context.reason === 'rebalance') guard.confirmed(Date.now())
    if (context.reason === 'lost') {
      guard.gone('the group member lost its partitions')
      await running.replicas?.lost()
    }
    const lost = flatten(partitions)
    const ids = [...running.tasks.groupByTask(lost).keys()]
    if (this.#options.failed()) {
      await committer.closeTasksUncommitted(ids)
      taskLifecycle.stopReading(lost)
      this.#log.info({ reason: context.reason, tasks: ids }, 'tasks closed without committing')
      return
    }
    if (context.reason !== 'lost') {
      const waitedMs = inFlightWaitMs(config, context.reason)
      const { busy, uncommitted } = await this.#commitSettled(running, ids, waitedMs)
      // A record that outlived the wait (bounded so that this callback ends within the rebalance timeout and the member
      // stays in the group) is abandoned: it writes nothing more and the next owner processes it again. A task that
      // could not commit closes dirty; under exactly-once the open transaction is aborted and the other tasks restart
      // from their committed offsets.
      if (busy.length > 0 || uncommitted.length > 0) {
        this.#log.warn(
          { tasks: busy, uncommitted, waitedMs },
          'records still in flight at revocation; they are processed again by the next owner'
        )
      }
      await taskLifecycle.close(
        ids.filter((id) => !uncommitted.includes(id)),
        { clean: true }
      )
      await taskLifecycle.close(uncommitted, { clean: false })
      // Before the abort, which may find the producer fenced and throw (a partition left assigned keeps its position).
      taskLifecycle.stopReading(lost)
      if (uncommitted.length > 0 && config.guarantee.exactlyOnce) await committer.dropLost(new Set(ids))
    } else {
      // Dirty close (Kafka Streams' onPartitionsLost): no cache flush, no changelog or output write, no checkpoint;
      // the partitions stop being read at once, since dropping what the tasks produced may find the producer fenced
      // and throw, and a partition left assigned keeps its old position and pause, here when its task comes back.
      await taskLifecycle.close(ids, { clean: false })
      taskLifecycle.stopReading(lost)
      this.#log.warn({ tasks: ids }, 'tasks lost; closed without writing')
      await committer.dropLost(new Set(ids))
    }
    this.#log.info({ reason: context.reason, tasks: ids }, 'tasks revoked')
  }

  /** Commits what is finished of `ids` once their records in flight are done, or `waitMs` passed (in-flight-commit.ts). */
  #commitSettled(running: RunningApp, ids: string[], waitMs: number): ReturnType<typeof commitSettled> {
    const commit = (taskIds: string[]) => this.#options.commit(running, taskIds)
    const exactlyOnce = this.#options.config.guarantee.exactlyOnce
    return commitSettled({ tasks: running.tasks, exactlyOnce, commit }, ids, waitMs)
  }
}
