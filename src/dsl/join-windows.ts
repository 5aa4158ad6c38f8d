import { TopologyError } from '../topology/index.ts'

function duration(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TopologyError(`${what} must be an integer number of milliseconds >= 0, got ${String(value)}`)
  }
  return value
}

/**
 * Which records of two streams join (Kafka Streams' `JoinWindows`): a left record at time t joins the right
 * records of the same key with timestamps in [t - before, t + after]. By default before = after = the time
 * difference. Records arriving later than `grace` after their window closed (in stream time) no longer join; a left
 * or outer join emits an unmatched record (with null for the other side) only once its window has closed
 * (after + grace past its time), never early (KAFKA-10847).
 */
export class JoinWindows {
  readonly beforeMs: number
  readonly afterMs: number
  readonly graceMs: number

  private constructor(beforeMs: number, afterMs: number, graceMs: number) {
    if (beforeMs + afterMs < 0) {
      throw new TopologyError(`JoinWindows: before (${beforeMs} ms) + after (${afterMs} ms) must not be negative`)
    }
    this.beforeMs = beforeMs
    this.afterMs = afterMs
    this.graceMs = graceMs
  }

  /** Records join when their timestamps differ by at most `timeDifferenceMs`; late records up to `graceMs`. */
  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): JoinWindows {
    const difference = duration('the join time difference', timeDifferenceMs)
    return new JoinWindows(difference, difference, duration('the join grace period', graceMs))
  }

  /** Records join when their timestamps differ by at most `timeDifferenceMs`; no grace for out-of-order records. */
  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): JoinWindows {
    return JoinWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0)
  }

  /** How far before a left record's time right records join (may be negative, then `after` must cover it). */
  before(timeDifferenceMs: number): JoinWindows {
    if (!Number.isSafeInteger(timeDifferenceMs)) throw new TopologyError('JoinWindows.before() needs an integer (ms)')
    return new JoinWindows(timeDifferenceMs, this.afterMs, this.graceMs)
  }

  /** How far after a left record's time right records join (may be negative, then `before` must cover it). */
  after(timeDifferenceMs: number): JoinWindows {
    if (!Number.isSafeInteger(timeDifferenceMs)) throw new TopologyError('JoinWindows.after() needs an integer (ms)')
    return new JoinWindows(this.beforeMs, timeDifferenceMs, this.graceMs)
  }

  /** before + after: the span of one join window, and the window stores' window size. */
  get sizeMs(): number {
    return this.beforeMs + this.afterMs
  }
}
