import { EventEmitter } from 'node:events'
import { backoffMs, pause } from '../deadline.ts'
import { KafkaError } from '../errors.ts'
import { runCallback } from './callbacks.ts'
import { encodeSubscription } from './consumer-protocol.ts'
import { GroupCoordinator } from './coordinator.ts'
import {
  FencedInstanceError,
  GroupClosedError,
  GroupError,
  GroupTimeoutError,
  RebalanceInProgressError
} from './errors.ts'
import { HeartbeatLoop } from './heartbeat.ts'
import { assignAsLeader, type JoinRoundMember, sendJoinGroup, sendSyncGroup } from './join-round.ts'
import { describeKafkaError, kafkaErrorName } from './kafka-error.ts'
import { leaveGroup } from './leave-group.ts'
import { type CommitGeneration, commitGroupOffsets, fetchGroupOffsets } from './offsets.ts'
import { type ResolvedGroupMemberOptions, resolveGroupMemberOptions } from './options.ts'
import { diffAssignment, formatPartitions } from './partitions.ts'
import type {
  CommittedOffset,
  Generation,
  GroupAssignment,
  GroupMemberEvents,
  GroupMemberOptions,
  GroupState,
  MemberAssignment,
  OffsetToCommit,
  RevokeContext,
  TopicPartitions
} from './types.ts'

/**
 * One member of a consumer group whose membership Streamlane owns (classic protocol, protocol type `consumer`,
 * assignor `streamlane`). The leader runs the caller's assignor and every member gets its own assignment userData.
 *
 * Rebalancing is cooperative: owned partitions are reported in the subscription and keep running while the group
 * rebalances; after a rebalance the member revokes only what it lost (`onRevoke`, awaited), and rejoins at once so
 * the new owner gets those partitions one generation later (the leader withholds them until then). See
 * docs in `index.ts` for the sequence the runtime follows.
 */
export class GroupMember extends EventEmitter<GroupMemberEvents> {
  readonly groupId: string
  readonly groupInstanceId: string | null
  readonly #options: ResolvedGroupMemberOptions
  readonly #coordinator: GroupCoordinator
  readonly #heartbeat: HeartbeatLoop
  /** Aborted when closing starts: stops joins and backoffs. */
  readonly #loopAbort = new AbortController()
  /** Aborted when the member is gone: commits made from onRevoke at close still run until then. */
  readonly #lifeAbort = new AbortController()
  readonly #firstAssignment = Promise.withResolvers<GroupAssignment>()
  #state: GroupState = 'created'
  #memberId = ''
  #generationId = -1
  #leaderId = ''
  #assignment: GroupAssignment | undefined
  #rejoinReason: string | undefined
  #lostReason: string | undefined
  #inJoin = false
  #wake: PromiseWithResolvers<void> | undefined
  #loop: Promise<void> | undefined
  #failure: Error | undefined
  #closing = false
  #closed: Promise<void> | undefined
  /** The last join round (JoinGroup, then SyncGroup); settles with its assignment, or undefined when it failed. */
  #lastRound: Promise<MemberAssignment | undefined> | undefined
  /** A revocation, an assignment or a loss the loop is running callbacks for; close waits for it. */
  #applying: Promise<void> | undefined
  /** The view of this member the join round works on (see join-round.ts). */
  readonly #round: JoinRoundMember

  constructor(options: GroupMemberOptions) {
    super()
    this.#options = resolveGroupMemberOptions(options)
    this.groupId = this.#options.groupId
    this.groupInstanceId = this.#options.groupInstanceId
    this.#coordinator = new GroupCoordinator(this.#options)
    this.#heartbeat = new HeartbeatLoop(this.#coordinator, this.#options.heartbeatIntervalMs, {
      current: () => (this.#inJoin ? undefined : this.#commitGeneration()),
      onBeat: (sent, sentAtMs) => this.emit('heartbeat', sent.generationId, sentAtMs),
      onFailure: (error, sent) => this.#onHeartbeatFailure(error, sent)
    })
    const self = this
    this.#round = {
      options: this.#options,
      coordinator: this.#coordinator,
      signal: this.#loopAbort.signal,
      get memberId() {
        return self.#memberId
      },
      set memberId(id: string) {
        self.#memberId = id
      },
      subscription: () => this.#subscription(),
      // A closing member's round only finishes the requests in flight: it neither loses its tasks nor starts over.
      loseAssignment: (reason) =>
        this.#closing ? Promise.reject(new GroupClosedError(this.groupId, 'join')) : this.#loseAssignment(reason),
      backoff: (attempt, deadline, what, error) => this.#backoff(attempt, deadline, what, error)
    }
    // join() hands this promise out; a member nobody awaits must not raise an unhandled rejection.
    this.#firstAssignment.promise.catch(() => {})
  }

  get state(): GroupState {
    return this.#state
  }

  /** True from the moment a rejoin starts until the member is stable again (owned partitions keep running). */
  get rebalanceInProgress(): boolean {
    return this.#state === 'joining' || this.#state === 'rebalancing'
  }

  get memberId(): string {
    return this.#memberId
  }

  get generationId(): number {
    return this.#generationId
  }

  get isLeader(): boolean {
    return this.#memberId !== '' && this.#leaderId === this.#memberId
  }

  /** Generation, member id and group instance id for TxnOffsetCommit; undefined while not a member. */
  get generation(): Generation | undefined {
    const current = this.#commitGeneration()
    return current && { ...current, leaderId: this.#leaderId, isLeader: this.isLeader }
  }

  /** Partitions this member owns now (kept through rebalances until revoked). */
  get assignment(): GroupAssignment | undefined {
    return this.#assignment
  }

  /** Starts membership; resolves with the first assignment, after onAssigned completed for it. */
  join(): Promise<GroupAssignment> {
    if (this.#closing) return Promise.reject(this.#failure ?? new GroupClosedError(this.groupId, 'join'))
    this.#loop ??= this.#run()
    return this.#firstAssignment.promise
  }

  /**
   * Rejoins with a fresh subscription (e.g. new userData with task lags). The broker starts a rebalance if this
   * member is the leader or its subscription changed; otherwise it confirms the current assignment.
   */
  requestRejoin(reason: string): void {
    if (this.#closing) return
    this.#rejoinReason ??= reason
    this.#wake?.resolve()
  }

  /**
   * Commits for the current generation, or for `generation` (a snapshot taken when the records were read). At close,
   * a commit refused because the group moved on during this member's join round is repeated once that round has
   * ended, with the generation it brought (see `generationAfterJoin`).
   */
  async commitOffsets(
    offsets: readonly OffsetToCommit[],
    options: { generation?: CommitGeneration } = {}
  ): Promise<void> {
    if (this.#lifeAbort.signal.aborted) throw new GroupClosedError(this.groupId, 'offset commit')
    const generation = options.generation ?? this.#commitGeneration()
    if (!generation)
      throw new RebalanceInProgressError(this.groupId, 'offset commit (the member has no generation yet)')
    const deadline = Date.now() + this.#options.offsetTimeoutMs
    const signal = this.#lifeAbort.signal
    try {
      await commitGroupOffsets(this.#coordinator, generation, offsets, deadline, signal)
    } catch (error) {
      const next = options.generation ? undefined : await this.generationAfterJoin(error, generation, deadline)
      if (!next) throw error
      await commitGroupOffsets(this.#coordinator, next, offsets, deadline, signal)
    }
  }

  /**
   * For a member that is closing: a commit was refused because the group moved on while this member's JoinGroup or
   * SyncGroup was in flight (ILLEGAL_GENERATION once the broker completed the join with this member in it,
   * REBALANCE_IN_PROGRESS while it waits for the SyncGroups). Waits for that round to end, until `deadline` and at
   * most a session timeout (the broker answers the round at once once the generation moved; a member it has not
   * answered by then was removed), and returns the generation it brought, with which the commit may be sent again;
   * undefined when there is none.
   * Safe for the same offsets: the round's subscription claimed every partition this member owns (close applies no
   * assignment in between), so the leader gave none of them to another member in the new generation.
   * Without this, the commit at close fails and every record processed since the last commit is processed again.
   */
  async generationAfterJoin(
    refusal: unknown,
    refused: Pick<CommitGeneration, 'generationId'>,
    deadline = Date.now() + this.#options.offsetTimeoutMs
  ): Promise<CommitGeneration | undefined> {
    const round = this.#lastRound
    if (!this.#closing || !round) return undefined
    const code = refusal instanceof KafkaError ? refusal.kafkaCode : undefined
    const moved = code === 'ILLEGAL_GENERATION'
    if (!moved && code !== 'REBALANCE_IN_PROGRESS' && !(refusal instanceof RebalanceInProgressError)) return undefined
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(
        () => resolve(undefined),
        Math.max(0, Math.min(deadline - Date.now(), this.#options.sessionTimeoutMs))
      )
    })
    const received = await Promise.race([round, timedOut])
    clearTimeout(timer)
    const next = received && this.#commitGeneration()
    if (!next || next.generationId < refused.generationId || (moved && next.generationId === refused.generationId))
      return undefined
    return next
  }

  /** Committed offsets of the partitions (-1n where none). `requireStable` waits out pending transactional offsets. */
  async fetchOffsets(
    partitions: readonly TopicPartitions[],
    options: { requireStable?: boolean } = {}
  ): Promise<CommittedOffset[]> {
    const deadline = Date.now() + this.#options.offsetTimeoutMs
    return fetchGroupOffsets(
      this.#coordinator,
      partitions,
      options.requireStable ?? true,
      deadline,
      this.#lifeAbort.signal
    )
  }

  /**
   * Revokes everything still owned (onRevoke with reason `close`, awaited, heartbeats still running so its commit
   * is accepted), then leaves the group. A static member does not send LeaveGroup unless `leave: true`: its
   * partitions wait for it for the session timeout, so a restarting pod gets them back without a rebalance.
   */
  close(options: { leave?: boolean } = {}): Promise<void> {
    this.#closed ??= this.#close(options.leave ?? this.groupInstanceId === null)
    return this.#closed
  }

  async #close(leave: boolean): Promise<void> {
    if (this.#failure) {
      this.#setState('closed')
      return
    }
    this.#closing = true
    this.#setState('leaving')
    this.#firstAssignment.reject(new GroupClosedError(this.groupId, 'join'))
    this.#wake?.resolve()
    // Callbacks the loop is running finish first; once closing it starts none. A join round in flight is not cut
    // short before the revocation: the broker may complete it with this member in a new generation, and only its
    // answer tells the generation the commit at close needs (see generationAfterJoin).
    while (this.#applying) await this.#applying
    let callbackError: unknown
    const owned = this.#assignment?.partitions ?? []
    if (owned.length > 0 && this.#memberId) {
      const context: RevokeContext = { reason: 'close', generationId: this.#generationId, memberId: this.#memberId }
      try {
        await this.#callback('onRevoke', () => this.#options.onRevoke?.(owned, context))
        this.emit('revoked', owned, context)
      } catch (error) {
        callbackError = error
      }
    }
    this.#assignment = undefined
    this.#loopAbort.abort()
    await this.#coordinator.closeJoinLane()
    await this.#loop
    await this.#heartbeat.stop()
    if (leave && this.#memberId) await this.#leave('closing')
    this.#lifeAbort.abort()
    await this.#coordinator.close()
    this.#setState('closed')
    if (callbackError) throw callbackError
  }

  async #run(): Promise<void> {
    this.#heartbeat.start()
    this.#rejoinReason = 'initial join'
    try {
      while (!this.#closing) {
        if (this.#lostReason !== undefined) await this.#loseAssignment(this.#lostReason)
        if (this.#rejoinReason !== undefined) {
          await this.#rebalance()
          continue
        }
        this.#wake = Promise.withResolvers()
        await this.#wake.promise
        this.#wake = undefined
      }
    } catch (error) {
      if (!this.#closing) await this.#fail(error)
      else if (!(error instanceof GroupClosedError))
        this.emit('warning', error instanceof Error ? error : new Error(String(error)))
    }
  }

  /** One rebalance as this member sees it: join, sync, revoke what was lost, take the new assignment. */
  async #rebalance(): Promise<void> {
    const reason = this.#rejoinReason ?? 'rejoin'
    this.#setState(this.#assignment ? 'rebalancing' : 'joining')
    this.emit('rebalance', reason)
    const deadline = Date.now() + this.#options.joinTimeoutMs
    for (;;) {
      // Cleared before JoinGroup goes out: a signal seen before it is answered by this very join.
      this.#rejoinReason = undefined
      if (this.#lostReason !== undefined) await this.#loseAssignment(this.#lostReason)
      const round = this.#joinAndSync(reason, deadline)
      // Kept after the round ends: a commit sent before may be refused after (see generationAfterJoin).
      this.#lastRound = round.catch(() => undefined)
      const received = await round
      // Closing: the round only told the new generation (for the commit at close); its assignment is not applied.
      if (this.#closing) return
      if (received) {
        await this.#apply(received)
        break
      }
    }
    if (this.#rejoinReason === undefined && this.#lostReason === undefined && !this.#closing) this.#setState('stable')
  }

  async #joinAndSync(reason: string, deadline: number): Promise<MemberAssignment | undefined> {
    this.#inJoin = true
    try {
      const joined = await sendJoinGroup(this.#round, reason, deadline)
      this.#memberId = joined.memberId
      this.#generationId = joined.generationId
      this.#leaderId = joined.leader
      this.emit('joined', { ...(this.generation as Generation) })
      // A restarted static leader gets skipAssignment: the group is stable and keeps its assignment.
      const lead = joined.leader === joined.memberId && !joined.skipAssignment
      const assignments = lead ? await assignAsLeader(this.#round, joined) : []
      return await sendSyncGroup(this.#round, joined.generationId, assignments, deadline)
    } finally {
      this.#inJoin = false
    }
  }

  /** Revoke exactly what was lost (awaited), then take the new assignment; retained partitions never stop. */
  #apply(received: MemberAssignment): Promise<void> {
    return this.#whileApplying(() => this.#applyAssignment(received))
  }

  async #applyAssignment(received: MemberAssignment): Promise<void> {
    const previous = this.#assignment?.partitions ?? []
    const diff = diffAssignment(previous, received.partitions)
    const generationId = this.#generationId
    const memberId = this.#memberId
    if (diff.revoked.length > 0) {
      const context: RevokeContext = { reason: 'rebalance', generationId, memberId }
      await this.#callback('onRevoke', () => this.#options.onRevoke?.(diff.revoked, context))
      this.emit('revoked', diff.revoked, context)
      // Cooperative follow-up: only our rejoin lets the leader hand the revoked partitions to their new owner.
      this.#rejoinReason ??= `revoked ${formatPartitions(diff.revoked)}`
    }
    const assignment: GroupAssignment = {
      generationId,
      memberId,
      partitions: received.partitions,
      userData: received.userData
    }
    this.#assignment = assignment
    const change = { assignment, ...diff }
    await this.#callback('onAssigned', () => this.#options.onAssigned?.(change))
    this.emit('assigned', change)
    this.#firstAssignment.resolve(assignment)
  }

  /** Ownership ended without a rebalance handing it over (session expired, fenced generation): onLost, no commit. */
  #loseAssignment(reason: string): Promise<void> {
    return this.#whileApplying(() => this.#lose(reason))
  }

  async #lose(reason: string): Promise<void> {
    this.#lostReason = undefined
    this.#rejoinReason ??= reason
    const lost = this.#assignment?.partitions ?? []
    this.#assignment = undefined
    if (lost.length === 0) return
    const context: RevokeContext = { reason: 'lost', generationId: this.#generationId, memberId: this.#memberId }
    const onLost = this.#options.onLost ?? this.#options.onRevoke
    await this.#callback('onLost', () => onLost?.(lost, context))
    this.emit('lost', lost, reason)
  }

  #onHeartbeatFailure(error: unknown, sent: CommitGeneration): void {
    // Answers about a generation we already left behind say nothing about the current one.
    if (this.#inJoin || this.#closing || sent.generationId !== this.#generationId || sent.memberId !== this.#memberId)
      return
    const name = kafkaErrorName(error)
    if (name === 'REBALANCE_IN_PROGRESS') {
      this.requestRejoin('the coordinator started a rebalance')
    } else if (name === 'ILLEGAL_GENERATION' || name === 'UNKNOWN_MEMBER_ID') {
      if (name === 'UNKNOWN_MEMBER_ID') this.#memberId = ''
      this.#generationId = -1
      this.#lostReason ??= `heartbeat for generation ${sent.generationId} failed with ${name} (session expired?)`
      this.#wake?.resolve()
    } else if (name === 'FENCED_INSTANCE_ID') {
      void this.#fail(this.#fenced(error))
    } else {
      const message = `heartbeat for generation ${sent.generationId} failed: ${describeKafkaError(error)}`
      this.emit('warning', new GroupError('STREAMLANE_GROUP_HEARTBEAT_FAILED', this.groupId, message, { cause: error }))
    }
  }

  /** Stops for good: reports, then cleans up. A dynamic member leaves so the group does not wait for it. */
  async #fail(error: unknown): Promise<void> {
    if (this.#failure || this.#state === 'closed') return
    const failure = error instanceof Error ? error : new Error(String(error))
    this.#failure = failure
    this.#closing = true
    this.#loopAbort.abort()
    this.#setState('failed')
    this.#firstAssignment.reject(failure)
    this.emit('failed', failure)
    this.#wake?.resolve()
    await this.#coordinator.closeJoinLane()
    await this.#heartbeat.stop()
    if (!(failure instanceof FencedInstanceError) && this.groupInstanceId === null && this.#memberId) {
      await this.#leave(`failed: ${failure.message}`)
    }
    this.#assignment = undefined
    this.#lifeAbort.abort()
    await this.#coordinator.close()
  }

  async #leave(reason: string): Promise<void> {
    const member = { memberId: this.#memberId, groupInstanceId: this.groupInstanceId, reason }
    const problem = await leaveGroup(this.#coordinator, member, this.#options.requestTimeoutMs)
    if (problem) this.emit('warning', problem)
    this.#memberId = ''
    this.#generationId = -1
  }

  /** Runs callbacks of the loop (a revocation and assignment, a loss) as one unit that close waits for. */
  async #whileApplying(work: () => Promise<void>): Promise<void> {
    const running = work()
    const settled = running.catch(() => {})
    this.#applying = settled
    try {
      await running
    } finally {
      if (this.#applying === settled) this.#applying = undefined
    }
  }

  #callback(name: string, run: () => void | Promise<void>): Promise<void> {
    return runCallback(this.groupId, name, this.#options.callbackTimeoutMs, run)
  }

  async #backoff(attempt: number, deadline: number, what: string, error: unknown): Promise<void> {
    const delay = backoffMs(attempt, Math.max(this.#options.retryDelayMs, 50), 5_000)
    if (Date.now() + delay > deadline) {
      throw new GroupTimeoutError(
        this.groupId,
        `${what} kept failing until the join deadline: ${describeKafkaError(error)}`,
        { cause: error }
      )
    }
    await pause(delay, this.#loopAbort.signal)
    if (this.#loopAbort.signal.aborted) throw new GroupClosedError(this.groupId, what)
  }

  async #subscription(): Promise<Buffer> {
    const userData = this.#options.userData
    return encodeSubscription({
      topics: this.#options.topics,
      userData: typeof userData === 'function' ? await userData() : (userData ?? Buffer.alloc(0)),
      ownedPartitions: this.#assignment?.partitions ?? [],
      generationId: this.#assignment?.generationId ?? -1
    })
  }

  #commitGeneration(): CommitGeneration | undefined {
    if (!this.#memberId || this.#generationId < 0) return undefined
    return { generationId: this.#generationId, memberId: this.#memberId, groupInstanceId: this.groupInstanceId }
  }

  #fenced(error: unknown): FencedInstanceError {
    return new FencedInstanceError(this.groupId, this.groupInstanceId ?? '(dynamic member)', { cause: error })
  }

  #setState(state: GroupState): void {
    const previous = this.#state
    if (previous === state || previous === 'failed' || previous === 'closed') return
    this.#state = state
    this.emit('state', state, previous)
  }
}
