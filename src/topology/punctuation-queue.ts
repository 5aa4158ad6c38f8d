import type { Punctuator } from './processor.ts'

export interface PunctuationSchedule {
  readonly owner: string
  readonly intervalMs: number
  readonly punctuator: Punctuator
  /** When it fires next (stream time or wall-clock time, by the queue it is in). */
  dueMs: number
  cancelled: boolean
}

/**
 * The schedules of one kind of time for one task. A schedule fires once per `due` call however far time jumped, then
 * moves to the next multiple of its interval after now, as Kafka Streams' `PunctuationSchedule.next` does, so a
 * long pause produces one punctuation, not a burst.
 */
export class PunctuationQueue {
  #schedules: PunctuationSchedule[] = []

  add(owner: string, firstDueMs: number, intervalMs: number, punctuator: Punctuator): PunctuationSchedule {
    const schedule: PunctuationSchedule = { owner, intervalMs, punctuator, dueMs: firstDueMs, cancelled: false }
    this.#schedules.push(schedule)
    return schedule
  }

  get size(): number {
    return this.#schedules.length
  }

  /** When the earliest schedule is due; infinity when there is none. */
  get nextDueMs(): number {
    let next = Number.POSITIVE_INFINITY
    for (const schedule of this.#schedules) if (!schedule.cancelled && schedule.dueMs < next) next = schedule.dueMs
    return next
  }

  /** The schedules due at `nowMs`, earliest first, each already moved to its next due time. */
  due(nowMs: number): PunctuationSchedule[] {
    this.#schedules = this.#schedules.filter((schedule) => !schedule.cancelled)
    const due = this.#schedules.filter((schedule) => schedule.dueMs <= nowMs).sort((a, b) => a.dueMs - b.dueMs)
    for (const schedule of due) {
      const missed = Math.floor((nowMs - schedule.dueMs) / schedule.intervalMs)
      schedule.dueMs += (missed + 1) * schedule.intervalMs
    }
    return due
  }

  clear(): void {
    this.#schedules = []
  }
}
