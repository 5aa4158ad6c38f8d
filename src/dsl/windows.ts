import { TopologyError } from '../topology/index.ts'

/**
 * Window definitions for `KGroupedStream.windowedBy(...)`, on event time. Pure arithmetic, no state: the aggregation
 * processors use them to find a record's windows and when each window closes.
 *
 * A window closes `grace` after its end, measured in stream time (the largest record timestamp the aggregation has
 * seen): until then out-of-order records still update it; afterwards they are dropped as late and counted.
 */

function duration(what: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TopologyError(`${what} must be an integer number of milliseconds >= ${min}, got ${String(value)}`)
  }
  return value
}

/**
 * Fixed-size windows on epoch-aligned boundaries: tumbling (advance = size, the default) or hopping (advance < size;
 * a record belongs to size / advance windows). A window is [start, start + size): start inclusive, end exclusive.
 */
export class TimeWindows {
  readonly kind = 'time'
  readonly sizeMs: number
  readonly advanceMs: number
  readonly graceMs: number

  private constructor(sizeMs: number, advanceMs: number, graceMs: number) {
    this.sizeMs = sizeMs
    this.advanceMs = advanceMs
    this.graceMs = graceMs
  }

  /** Tumbling windows of `sizeMs` that accept records up to `graceMs` late. */
  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    return new TimeWindows(duration('the window size', sizeMs, 1), sizeMs, duration('the grace period', graceMs, 0))
  }

  /** Tumbling windows of `sizeMs` that close at their end: any out-of-order record after that is dropped. */
  static ofSizeWithNoGrace(sizeMs: number): TimeWindows {
    return TimeWindows.ofSizeAndGrace(sizeMs, 0)
  }

  /** Hopping windows: a new window every `advanceMs` (0 < advance <= size). */
  advanceBy(advanceMs: number): TimeWindows {
    duration('the window advance', advanceMs, 1)
    if (advanceMs > this.sizeMs) {
      throw new TopologyError(
        `the window advance (${advanceMs} ms) cannot be larger than the window size (${this.sizeMs} ms)`
      )
    }
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs)
  }

  /** The starts of the windows `timestampMs` falls in, oldest first (none start before 0). */
  windowStartsFor(timestampMs: number): number[] {
    const starts: number[] = []
    let start = Math.floor(Math.max(0, timestampMs - this.sizeMs + this.advanceMs) / this.advanceMs) * this.advanceMs
    for (; start <= timestampMs; start += this.advanceMs) starts.push(start)
    return starts
  }
}

/**
 * Sliding windows (Kafka Streams' `SlidingWindows`): windows of `timeDifferenceMs` that move with the records, one
 * per distinct set of records within that difference of each other. A window is [start, start + difference], both
 * ends inclusive; the aggregate of the window ending at a record's timestamp is "the last `timeDifferenceMs` of that
 * key". Only windows holding records exist (unlike hopping windows with a 1 ms advance).
 */
export class SlidingWindows {
  readonly kind = 'sliding'
  readonly timeDifferenceMs: number
  readonly graceMs: number

  private constructor(timeDifferenceMs: number, graceMs: number) {
    this.timeDifferenceMs = timeDifferenceMs
    this.graceMs = graceMs
  }

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    return new SlidingWindows(
      duration('the time difference of sliding windows', timeDifferenceMs, 1),
      duration('the grace period', graceMs, 0)
    )
  }

  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): SlidingWindows {
    return SlidingWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0)
  }
}

/**
 * Session windows: a key's records closer than `inactivityGapMs` to each other form one session, [first, last]
 * both inclusive. A record between two sessions within the gap of both merges them.
 */
export class SessionWindows {
  readonly kind = 'session'
  readonly inactivityGapMs: number
  readonly graceMs: number

  private constructor(inactivityGapMs: number, graceMs: number) {
    this.inactivityGapMs = inactivityGapMs
    this.graceMs = graceMs
  }

  static ofInactivityGapAndGrace(inactivityGapMs: number, graceMs: number): SessionWindows {
    return new SessionWindows(
      duration('the inactivity gap', inactivityGapMs, 1),
      duration('the grace period', graceMs, 0)
    )
  }

  static ofInactivityGapWithNoGrace(inactivityGapMs: number): SessionWindows {
    return SessionWindows.ofInactivityGapAndGrace(inactivityGapMs, 0)
  }
}

/**
 * What a windowed KTable remembers of its windows, for `suppress(Suppressed.untilWindowCloses())`: a window is
 * final once stream time reaches its end plus `closesAfterEndMs`, because from then on no record is accepted into it.
 *
 * - time windows ([start, end)): a record is dropped once its window's end <= stream time - grace: grace.
 * - sliding windows ([start, end], end inclusive): dropped once end < stream time - grace: grace + 1.
 * - session windows: a record up to `gap` after a session's end still extends it, and is accepted while the merged
 *   session's end >= stream time - grace: gap + grace + 1. (A record that bridges an emitted session to a later,
 *   still open one is accepted too, as in Kafka Streams; the merged session is then emitted when it closes.)
 */
export interface WindowedTableInfo {
  readonly kind: 'time' | 'sliding' | 'session'
  readonly closesAfterEndMs: number
}

export function windowedTableInfo(windows: TimeWindows | SlidingWindows | SessionWindows): WindowedTableInfo {
  if (windows.kind === 'time') return { kind: 'time', closesAfterEndMs: windows.graceMs }
  if (windows.kind === 'sliding') return { kind: 'sliding', closesAfterEndMs: windows.graceMs + 1 }
  return { kind: 'session', closesAfterEndMs: windows.inactivityGapMs + windows.graceMs + 1 }
}
