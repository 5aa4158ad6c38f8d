/**
 * What an assignment means for this instance's standby and warm-up tasks, and the rebalances high availability
 * asks for (KIP-441):
 *
 * - Before active tasks start, standbys of the same tasks are closed (their checkpoint written): the active task
 *   opens the same directory and restores only the tail the standby had not applied yet (a promotion).
 * - After, the standbys and warm-ups the assignment lists are opened (an active task revoked here that is now a
 *   standby goes on from its checkpoint: a demotion); those no longer listed are closed, their state kept on disk
 *   for `stateCleanupDelayMs` so a task that returns soon finds it. This runs in the background: the active tasks,
 *   promoted ones first of all, process meanwhile (opening stores and positioning the standby reader took 50-200 ms
 *   on the critical path of a pod loss otherwise); standby work waits until it is done.
 * - A member holding warm-ups rejoins as soon as all of them are within `acceptableRecoveryLag` (the leader then
 *   moves the tasks), and the member the leader chose schedules the probing rebalance `probingRebalanceIntervalMs`
 *   later, in case the warm-ups never report.
 *
 * Standby work never writes to Kafka and never blocks readiness; a member that may have lost its tasks (see
 * MembershipGuard) applies nothing, and one that lost them closes its standbys too.
 */
import type { AssignmentInfo, TaskIdText } from '../assignment/index.ts'
import type { GroupMember } from '../kafka/group/index.ts'
import type { Logger } from '../observe/index.ts'
import type { BytesBackend } from '../state/index.ts'
import type { StandbyTasks } from './standby-tasks.ts'

/**
 * Least time between two rebalances this member asks for because its warm-ups caught up: should the leader keep a
 * caught-up warm-up where it is (balance changed meanwhile), the member must not rejoin in a loop.
 */
const MIN_FOLLOWUP_INTERVAL_MS = 10_000

export interface StandbyLifecycleOptions {
  standbys: StandbyTasks
  group: Pick<GroupMember, 'requestRejoin'>
  logger: Logger
}

export class StandbyLifecycle {
  readonly #o: StandbyLifecycleOptions
  #probingTimer: NodeJS.Timeout | undefined
  /** The assignment asked this member to rejoin once its warm-ups caught up, and it has not yet. */
  #followupPending = false
  #acceptableRecoveryLag = 0n
  #lastFollowupAt = -Infinity
  /** Rebalances this instance asked for because warm-ups caught up or the probing interval passed. */
  probingRebalances = 0
  /** In-memory stores of standbys promoted by the assignment being applied, until their active tasks take them. */
  readonly #handedOver = new Map<TaskIdText, Map<string, BytesBackend>>()
  /** The standbys and warm-ups of the latest assignment being opened in the background (see `apply`). */
  #assigning: Promise<void> | undefined
  /** What opening them threw: the next `step` throws it, as the assignment callback would have. */
  #assignFailure: unknown

  constructor(options: StandbyLifecycleOptions) {
    this.#o = options
  }

  get standbys(): StandbyTasks {
    return this.#o.standbys
  }

  /** Progress of each warm-up held here, 0..1 (see StandbyTasks.warmupProgress). */
  warmupProgress(): { task: string; progress: number }[] {
    return this.#o.standbys.warmupProgress(this.#acceptableRecoveryLag)
  }

  /**
   * Closes the standbys of tasks about to start as active here, so the active task can open their directory; the
   * data of their in-memory stores is kept for the active task (`takeMemoryStores`), which then restores only the
   * records the standby had not applied, as for persistent stores.
   */
  async beforeActiveStart(info: AssignmentInfo): Promise<void> {
    await this.#assigned()
    this.#handedOver.clear()
    const promoted = info.activeTasks.filter((id) => this.#o.standbys.has(id))
    if (promoted.length === 0) return
    for (const [id, stores] of await this.#o.standbys.release(promoted, { handOver: true })) {
      this.#handedOver.set(id, stores)
    }
    this.#o.logger.info(
      { tasks: promoted, inMemoryKept: [...this.#handedOver.keys()] },
      'standby tasks promoted to active'
    )
  }

  /** The in-memory stores a promoted standby of `taskId` left for its active task (once). */
  takeMemoryStores(taskId: string): ReadonlyMap<string, BytesBackend> | undefined {
    const stores = this.#handedOver.get(taskId as TaskIdText)
    this.#handedOver.delete(taskId as TaskIdText)
    return stores
  }

  /**
   * Opens and closes standbys and warm-ups as the assignment says, in the background after the ones already under
   * way; schedules the rebalances it asks for. The promise settles when this assignment is applied (never rejects:
   * a failure is thrown by the next `step`); the runtime does not wait for it.
   */
  apply(info: AssignmentInfo, revokedActive: readonly string[]): Promise<void> {
    const run = (this.#assigning ?? Promise.resolve())
      .then(() => this.#applyNow(info, revokedActive))
      .catch((error: unknown) => {
        this.#assignFailure ??= error
      })
    this.#assigning = run
    return run.finally(() => {
      if (this.#assigning === run) this.#assigning = undefined
    })
  }

  /** Resolves once no assignment of standbys is being applied in the background. */
  async #assigned(): Promise<void> {
    while (this.#assigning) await this.#assigning
  }

  async #applyNow(info: AssignmentInfo, revokedActive: readonly string[]): Promise<void> {
    const { standbys, logger } = this.#o
    const started = performance.now()
    const { opened, closed } = await standbys.assign(new Set(info.standbyTasks), new Set(info.warmupTasks))
    const demoted = revokedActive.filter((id) => standbys.has(id))
    if (demoted.length > 0) logger.info({ tasks: demoted }, 'active tasks demoted to standby')
    if (opened.length > 0 || closed.length > 0) {
      logger.info(
        {
          standby: info.standbyTasks,
          warmup: info.warmupTasks,
          opened,
          closed,
          ms: Math.round(performance.now() - started)
        },
        'standby and warm-up tasks assigned'
      )
    }
    this.#followupPending = info.followupRebalance && info.warmupTasks.length > 0
    this.#acceptableRecoveryLag = info.acceptableRecoveryLag
    clearTimeout(this.#probingTimer)
    this.#probingTimer = undefined
    if (info.nextRebalanceDelayMs > 0) {
      this.#probingTimer = setTimeout(() => this.#rejoin('probing rebalance'), info.nextRebalanceDelayMs)
      this.#probingTimer.unref()
    }
  }

  /**
   * Applies a batch of changelog records to the standbys; then, when this member holds warm-ups that all caught up,
   * asks for the rebalance that moves their tasks here. Call only while the member may write (not in doubt).
   */
  async step(): Promise<number> {
    if (this.#assignFailure !== undefined) throw this.#assignFailure
    if (this.#assigning) return 0
    const applied = await this.#o.standbys.step()
    if (this.#followupPending) {
      const lags = [...this.#o.standbys.warmupLags().values()]
      const caughtUp = lags.every((lag) => lag !== undefined && lag <= this.#acceptableRecoveryLag)
      if (lags.length > 0 && caughtUp && Date.now() - this.#lastFollowupAt >= MIN_FOLLOWUP_INTERVAL_MS) {
        this.#followupPending = false
        this.#lastFollowupAt = Date.now()
        this.#rejoin('warm-up tasks caught up')
      }
    }
    return applied
  }

  /** The member lost its tasks: its standbys close too (without writing checkpoint files), as active tasks do. */
  async lost(): Promise<void> {
    await this.#assigned()
    const ids = this.#o.standbys.taskIds
    this.#followupPending = false
    await this.#o.standbys.closeAll({ clean: false })
    if (ids.length > 0) this.#o.logger.warn({ tasks: ids }, 'standby tasks closed: the member lost its tasks')
  }

  async close(): Promise<void> {
    await this.#assigned()
    clearTimeout(this.#probingTimer)
    this.#probingTimer = undefined
    await this.#o.standbys.closeAll()
  }

  #rejoin(reason: string): void {
    this.probingRebalances++
    this.#o.logger.info({ reason, warmups: Object.fromEntries(this.#warmupLagTexts()) }, 'probing rebalance')
    this.#o.group.requestRejoin(reason)
  }

  #warmupLagTexts(): [string, string][] {
    return [...this.#o.standbys.warmupLags()].map(([id, lag]) => [id, lag === undefined ? 'unknown' : String(lag)])
  }
}
