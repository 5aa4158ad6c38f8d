/**
 * Whether this member may still own its tasks, asked before anything is written for them (a cache flush, an output
 * or changelog record, an offset commit, a punctuator's or a suppression's emit).
 *
 * A process that was paused (SIGSTOP, a long GC, a frozen VM) past its session timeout wakes up with stale caches and
 * stale windows, and the group may already have given its tasks to another member that restored from the changelog
 * and moved on. If it flushed first and learned that it had lost its tasks only afterwards, its stale values would
 * land after the new owner's and, for windows that have closed, stay there: a loss under at-least-once. So writes
 * wait while ownership is in doubt, and a member that learns it lost its tasks closes them without writing (Kafka
 * Streams' onPartitionsLost and dirty close).
 *
 * Ownership is in doubt when:
 * - the member has no generation (it was told that it is unknown or its generation is stale, or it never joined);
 * - something answered that the member is gone (an offset commit refused for an unknown member or an old
 *   generation), until a new assignment arrives;
 * - the last sign of life the coordinator acknowledged (a heartbeat, counted from when it was SENT, since the broker
 *   restarts the session when it receives it) is older than the session timeout minus one heartbeat interval, the
 *   margin for writes already on their way. This is what a process that was paused sees first when it wakes up, before
 *   any answer about its membership arrived. A heartbeat that succeeds again ends the doubt; one that fails with
 *   UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION makes the tasks lost.
 *
 * Every write path asks (the loop, the commit, the producer before it sends, the collector's flush), and the first to
 * see doubt start or end tells `onChange`: the runtime's `writes held` / `writes resumed` log lines therefore come
 * from the first write attempt after a pause, wherever it was, not only from the loop.
 *
 * No I/O: the clock is passed in, the runtime feeds it the group member's events.
 */

export interface MembershipGuardOptions {
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  /** Whether the group member has a generation (member id and generation id) right now. */
  hasGeneration: () => boolean
  now?: () => number
  /** Called when `doubt()` finds ownership newly in doubt (with the reason) or no longer in doubt (undefined). */
  onChange?: (doubt: string | undefined) => void
}

export class MembershipGuard {
  readonly #options: MembershipGuardOptions
  readonly #now: () => number
  /** When the coordinator last had news of us that it acknowledged (a heartbeat's send time, an assignment). */
  #confirmedAt: number
  #gone: string | undefined
  /** What the last `doubt()` answered: in doubt or not, to tell `onChange` about changes only. */
  #inDoubt = false

  constructor(options: MembershipGuardOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#confirmedAt = this.#now()
  }

  /** How long after the last acknowledged sign of life ownership counts as in doubt. */
  get windowMs(): number {
    const { sessionTimeoutMs, heartbeatIntervalMs } = this.#options
    return Math.max(sessionTimeoutMs - heartbeatIntervalMs, sessionTimeoutMs / 2)
  }

  /** The coordinator acknowledged a request this member sent at `sentAtMs` (a heartbeat, an offset commit). */
  confirmed(sentAtMs: number): void {
    if (sentAtMs > this.#confirmedAt) this.#confirmedAt = sentAtMs
  }

  /** A new assignment was applied: the member is in the group as of now. */
  assigned(): void {
    this.#gone = undefined
    this.confirmed(this.#now())
  }

  /** Something answered that this member is no longer the owner; writes wait until the next assignment. */
  gone(reason: string): void {
    this.#gone ??= reason
    // Told now, not at the next write attempt: the tasks may be closed as lost before anything else asks.
    this.doubt()
  }

  /** Why ownership of the tasks is in doubt right now, or undefined when the member may write for them. */
  doubt(): string | undefined {
    const doubt = this.#currentDoubt()
    if ((doubt !== undefined) !== this.#inDoubt) {
      this.#inDoubt = doubt !== undefined
      this.#options.onChange?.(doubt)
    }
    return doubt
  }

  #currentDoubt(): string | undefined {
    if (this.#gone !== undefined) return this.#gone
    if (!this.#options.hasGeneration()) return 'the member has no generation (unknown to the group or rejoining)'
    const silentMs = this.#now() - this.#confirmedAt
    if (silentMs >= this.windowMs) {
      return `no heartbeat acknowledged for ${silentMs} ms (session timeout ${this.#options.sessionTimeoutMs} ms)`
    }
    return undefined
  }
}
