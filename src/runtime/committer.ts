/**
 * Commits the tasks' progress under the app's processing guarantee, and decides what happens to progress that
 * cannot be committed.
 *
 * At-least-once: outputs and changelog writes are acknowledged, then the stores commit, then the input offsets; a
 * crash in between replays, it never skips. Exactly-once: outputs, changelog writes and input offsets form one Kafka
 * transaction, and the stores commit only after it; a transaction that cannot commit is aborted and the tasks start
 * again from the committed offsets; a fenced producer is replaced and the member rejoins.
 */
import { StreamlaneError } from '../errors.ts'
import { type CommitGeneration, type GroupMember, RebalanceInProgressError } from '../kafka/group/index.ts'
import { type KafkaProducer, OffsetCommitRejectedError, ProducerFencedError } from '../kafka/index.ts'
import type { Logger } from '../observe/index.ts'
import type { StateDirectory } from '../state/index.ts'
import type { TaskLifecycle } from './active-task-lifecycle.ts'
import type { MembershipGuard } from './membership-guard.ts'
import { isFatalProductionError, type ProducerRecordCollector, WritesHeldError } from './producer-collector.ts'
import type { TaskManager } from './task-manager.ts'

export interface CommitterOptions {
  applicationId: string
  commitIntervalMs: number
  exactlyOnce: boolean
  tasks: Pick<TaskManager, 'taskIds' | 'offsetsToCommit' | 'commitState' | 'markCommitted' | 'processedTotal'>
  collector: Pick<ProducerRecordCollector, 'flush' | 'acknowledgedOffset' | 'discardUnsent'>
  group: Pick<
    GroupMember,
    'commitOffsets' | 'generation' | 'requestRejoin' | 'rebalanceInProgress' | 'generationAfterJoin'
  >
  /** The producer in use right now: under exactly-once the transactional one, replaced after a fencing. */
  producer: () => KafkaProducer
  /** Starts a new producer (a new epoch) in place of the fenced one, in the collector too. */
  replaceProducer: () => Promise<void>
  taskLifecycle: Pick<
    TaskLifecycle,
    'restartFromCommitted' | 'closeAllUncommitted' | 'closeAfterFailure' | 'drainedPosition'
  >
  /** Present when the app has state: commits refresh its lock and clean obsolete task directories. */
  stateDir: Pick<StateDirectory, 'refreshLock' | 'cleanRemovedTasks'> | undefined
  /** Whether this member may still write for its tasks; a commit waits while it is in doubt. */
  guard: Pick<MembershipGuard, 'doubt' | 'confirmed' | 'gone'>
  logger: Logger
}

export class Committer {
  readonly #o: CommitterOptions
  #nextCommitAt = 0
  #nextStateCleanupAt = 0
  #committedRecords = 0
  #fencings = 0

  constructor(options: CommitterOptions) {
    this.#o = options
  }

  /**
   * Where a fully processed input partition's reader stands: past the commit markers of transactional input, so
   * the committed offset reaches the log end and the group's lag reaches 0 (it would stay 1 per partition at the
   * last processed record + 1, before the marker).
   */
  readonly #drainedPosition = (topic: string, partition: number): bigint | undefined =>
    this.#o.taskLifecycle.drainedPosition(topic, partition)

  /** Records processed up to the last successful commit. */
  get committedRecords(): number {
    return this.#committedRecords
  }

  /** Producer fencings this instance recovered from. */
  get fencings(): number {
    return this.#fencings
  }

  /** Whether the commit interval has passed since the last commit (or since `scheduleNextCommit`). */
  get commitDue(): boolean {
    return Date.now() >= this.#nextCommitAt
  }

  /** The next commit is due one commit interval from now. */
  scheduleNextCommit(): void {
    this.#nextCommitAt = Date.now() + this.#o.commitIntervalMs
  }

  /**
   * Makes outputs and changelog writes durable (acks), then the stores' writes with the changelog offsets they
   * reached, then commits the input offsets of `taskIds` (default: every task). Under exactly-once every task
   * commits: one transaction holds them all.
   */
  async commit(taskIds?: Iterable<string>): Promise<void> {
    if (this.#withheld()) return
    if (this.#o.exactlyOnce) return this.#commitTransaction()
    const { tasks, collector } = this.#o
    const ids = taskIds ? [...taskIds] : undefined
    const offsets = tasks.offsetsToCommit(ids, this.#drainedPosition)
    try {
      await collector.flush()
    } catch (error) {
      if (!(error instanceof WritesHeldError)) throw error
      this.#o.logger.warn({ reason: this.#o.guard.doubt() }, 'commit withheld: this member may have lost its tasks')
      return
    }
    tasks.commitState((topic, partition) => collector.acknowledgedOffset(topic, partition), ids)
    this.scheduleNextCommit()
    this.#maintainStateDirectory()
    if (offsets.length === 0) return
    const sentAt = Date.now()
    try {
      await this.#o.group.commitOffsets(offsets)
      this.#o.guard.confirmed(sentAt)
      tasks.markCommitted(offsets)
      this.#committedRecords = tasks.processedTotal
    } catch (error) {
      // The group moved on (rebalance, fenced generation): the commit is retried by the owner after the rebalance,
      // and records are replayed at worst, never skipped.
      if (this.#refusedByRebalanceUnderWay(error)) {
        this.#o.logger.warn({ err: error, partitions: offsets.length }, 'offset commit deferred')
        return
      }
      if (error instanceof OffsetCommitRejectedError) {
        // The member is unknown or its generation is gone (Kafka Streams' TaskMigratedException): write nothing more
        // for the tasks until a new assignment says what this member owns; rejoin now rather than at a heartbeat.
        this.#o.logger.warn({ err: error, partitions: offsets.length }, 'offset commit refused; tasks may be lost')
        this.#o.guard.gone(`an offset commit was refused: ${error.message}`)
        this.#o.group.requestRejoin('the offset commit was refused')
        return
      }
      throw error
    }
  }

  /**
   * An offset commit refused because a rebalance is under way (REBALANCE_IN_PROGRESS), or refused for a generation
   * that moved on while this member is rejoining (ILLEGAL_GENERATION): the round in flight says what it owns, so
   * neither guarantee asks for another rejoin.
   */
  #refusedByRebalanceUnderWay(error: unknown): boolean {
    if (error instanceof RebalanceInProgressError) return true
    const rejoining = error instanceof OffsetCommitRejectedError && error.kafkaCode === 'ILLEGAL_GENERATION'
    return rejoining && this.#o.group.rebalanceInProgress
  }

  /**
   * True when this member's ownership of its tasks is in doubt (see MembershipGuard): then nothing is flushed, sent
   * or committed; the commit is tried again one interval later, or the tasks are closed dirty once they are lost.
   */
  #withheld(): boolean {
    const doubt = this.#o.guard.doubt()
    if (doubt === undefined) return false
    this.#o.logger.warn({ reason: doubt }, 'commit withheld: this member may have lost its tasks')
    this.scheduleNextCommit()
    return true
  }

  /** Under exactly-once, every send belongs to a transaction: one is open whenever tasks may produce. */
  async ensureTransaction(): Promise<void> {
    if (!this.#o.exactlyOnce) return
    const producer = this.#o.producer()
    if (!producer.inTransaction) await producer.beginTransaction()
  }

  /**
   * Exactly-once commit: store flushes and outputs, then the input offsets (with the group's generation and member
   * id) join the transaction, which commits; only then do the stores commit locally, so a crash at any point leaves
   * stores that restore just the difference. A transaction that cannot commit is aborted and every task starts
   * again from the committed offsets: nothing it wrote is ever visible to read_committed readers.
   */
  async #commitTransaction(): Promise<void> {
    const { tasks, collector, group, applicationId } = this.#o
    const producer = this.#o.producer()
    this.scheduleNextCommit()
    this.#maintainStateDirectory()
    if (!producer.inTransaction) return
    const offsets = tasks.offsetsToCommit(undefined, this.#drainedPosition)
    try {
      await collector.flush()
      // The flush may have spanned a pause: ask again before the offsets and the commit go out. The transaction
      // stays open; it commits at the next interval, or is aborted once the tasks turn out to be lost.
      if (this.#withheld()) return
      if (offsets.length > 0) {
        const generation = group.generation
        if (!generation) {
          throw new StreamlaneError('STREAMLANE_NOT_IN_GROUP', `not a member of group ${applicationId} right now`)
        }
        const send = (g: CommitGeneration) =>
          producer.sendOffsetsToTransaction({
            groupId: applicationId,
            generationId: g.generationId,
            memberId: g.memberId,
            groupInstanceId: g.groupInstanceId ?? undefined,
            offsets
          })
        try {
          await send(generation)
        } catch (error) {
          // At close, refused because the group moved on during the member's join round: sent again, in the same
          // transaction, with the generation that round brought (GroupMember.generationAfterJoin).
          const next = await group.generationAfterJoin(error, generation)
          if (!next) throw error
          await send(next)
        }
      }
      if (this.#withheld()) return
      await producer.commitTransaction()
    } catch (error) {
      if (error instanceof WritesHeldError) {
        this.#o.logger.warn({ reason: this.#o.guard.doubt() }, 'commit withheld: this member may have lost its tasks')
        return
      }
      // Records the production handler failed on (a missing topic, a record too large) would fail every retry.
      if (error instanceof ProducerFencedError || isFatalProductionError(error)) throw error
      this.#o.logger.warn(
        { err: error },
        'transaction not committed; aborting it and restarting tasks from committed offsets'
      )
      await this.#abortAndRewind(() => true)
      // The group moved on without us (Kafka Streams' TaskMigratedException): rejoin now rather than at the next
      // heartbeat, so the tasks we no longer own stop being restarted here. Not when this member is already
      // rejoining: a second request would start yet another round once this one ends, each round refusing the next
      // transaction's offsets again (a storm of generations, each aborting a transaction).
      if (error instanceof OffsetCommitRejectedError && !this.#refusedByRebalanceUnderWay(error)) {
        group.requestRejoin('the offset commit was refused')
      }
      return
    }
    tasks.commitState((topic, partition) => collector.acknowledgedOffset(topic, partition))
    tasks.markCommitted(offsets)
    this.#committedRecords = tasks.processedTotal
  }

  /** Keeps the state directory's lock fresh for other hosts and deletes directories of tasks long gone. */
  #maintainStateDirectory(): void {
    const { stateDir } = this.#o
    if (stateDir && Date.now() >= this.#nextStateCleanupAt) {
      stateDir.refreshLock()
      stateDir.cleanRemovedTasks(this.#o.tasks.taskIds)
      this.#nextStateCleanupAt = Date.now() + 30_000
    }
  }

  /**
   * Tasks lost without a chance to commit (the session expired, the member is unknown): their progress is given up,
   * and nothing more is written for them, not even what was already produced but not sent (their new owner may have
   * written newer values since, which these would overwrite).
   */
  async dropLost(lostIds: ReadonlySet<string>): Promise<void> {
    if (this.#o.exactlyOnce) {
      // The open transaction holds output of the lost tasks: abort it, and restart the others from their offsets.
      await this.#abortAndRewind((id) => !lostIds.has(id))
    } else await this.#o.collector.discardUnsent()
  }

  /**
   * Aborts the open transaction, closes every task without committing (stores drop their uncommitted writes), and
   * starts again, from the group's committed offsets, the tasks `keep` selects.
   */
  async #abortAndRewind(keep: (taskId: string) => boolean): Promise<void> {
    const producer = this.#o.producer()
    if (producer.inTransaction) {
      try {
        await producer.abortTransaction()
      } catch (error) {
        // A member frozen past its session is usually past its transaction timeout too: the broker has aborted the
        // transaction and bumped the epoch, and refuses this abort (INVALID_TXN_STATE, PRODUCER_FENCED). A new
        // producer's InitProducerId completes any abort still pending and fences the old epoch, so the tasks kept
        // start from committed offsets with nothing of the old transaction left (Kafka Streams swallows these too).
        this.#o.logger.warn(
          { err: error },
          'could not abort the open transaction of lost tasks; starting a new producer, which ends it'
        )
        await this.#o.replaceProducer()
      }
    }
    await this.#o.taskLifecycle.restartFromCommitted(keep)
  }

  /**
   * The producer's epoch ended (a transaction outlived transactionTimeoutMs, e.g. a process paused past it, or
   * another producer took over the transactional id): the broker has aborted the open transaction. As Kafka
   * Streams does on TaskMigratedException, every task closes without committing (stores drop uncommitted writes),
   * a new producer takes a new epoch, and the member rejoins; the tasks it still owns then start again from the
   * committed offsets. If another instance really has this identity, the group fences the member and that is fatal.
   */
  async recoverFromFencing(error: ProducerFencedError): Promise<void> {
    this.#o.logger.warn(
      { err: error, tasks: this.#o.tasks.taskIds },
      'producer fenced; closing tasks without committing, starting a new producer and rejoining the group'
    )
    await this.#o.taskLifecycle.closeAllUncommitted()
    await this.#o.replaceProducer()
    this.#fencings++
    this.#o.group.requestRejoin('the producer was fenced')
  }

  /**
   * After the app failed (Kafka Streams' dirty close): aborts the open transaction and closes the tasks without
   * committing offsets or writing checkpoints (stores drop their uncommitted writes), so the input records whose
   * outputs were not written are read again after a restart. Never throws: it runs on the way out.
   */
  async closeTasksUncommitted(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    const producer = this.#o.producer()
    if (this.#o.exactlyOnce && producer.inTransaction) {
      try {
        await producer.abortTransaction()
      } catch (error) {
        this.#o.logger.warn(
          { err: error },
          'could not abort the open transaction; read_committed readers never see it, and the broker aborts it after transactionTimeoutMs'
        )
      }
    }
    await this.#o.taskLifecycle.closeAfterFailure(ids)
  }
}
