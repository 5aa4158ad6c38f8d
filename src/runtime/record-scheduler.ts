/**
 * Runs the records of an instance's tasks: concurrently across tasks, in order within each task.
 *
 * A task processes one record at a time (its partitions' order and Kafka Streams' semantics are kept: a record
 * starts only once the previous one, the forwards it made and the punctuators it made due have finished). When a
 * record turns out to be asynchronous (a processor awaited a call to another service), the task's record stays in
 * flight and other tasks go on: an instance owning 12 partitions waits on 12 calls at once. A finished record
 * starts its task's next one at once, without waiting for the runtime's loop. Synchronous records never leave the
 * loop's fast path and take no slot.
 *
 * Bounds and fairness: at most `maxInFlight` asynchronous units (records and punctuators) at once; a task that
 * finds no free slot queues, and slots go to queued tasks in arrival order, so no task starves.
 *
 * Control: nothing starts while `mayStart()` says no (the member may have lost its tasks) or before the first
 * `run()`; `hold(tasks)` stops new records in those tasks (a commit or a revocation waits for them to be idle)
 * until `release()`; `remove(task)` abandons a unit in flight (its completion is ignored; the task manager drops
 * its writes). A failure inside a unit that runs outside the loop is kept and thrown by the next `run()`.
 *
 * No I/O; the clock is injectable.
 */
import { isPromiseLike } from '../topology/index.ts'

type Step = boolean | Promise<boolean>

/** What the scheduler needs of a task. */
export interface SchedulableTask {
  readonly graph: {
    readyToProcess(): boolean
    processNext(): Step
    punctuateWallClock(nowMs?: number): Step
  }
  /** A restoring task processes nothing. */
  readonly restoring: boolean
}

export interface RecordSchedulerOptions {
  /** Asynchronous units (records, punctuators) in flight at most, over every task. */
  maxInFlight: number
  /** Whether units may start now; asked before each one. */
  mayStart?: () => boolean
  now?: () => number
}

/** One unit of work in flight. */
interface InFlight {
  readonly kind: 'record' | 'punctuation'
  readonly startedAt: number
  /** Settles (never rejects) when the unit has finished, whatever its outcome. */
  readonly done: Promise<void>
}

interface TaskRun {
  current: InFlight | undefined
  held: boolean
  failed: boolean
  queued: boolean
}

/** Synchronous records one task may process in a row before the next task's turn. */
const SLICE = 500

export class RecordScheduler<T extends SchedulableTask> {
  readonly #options: RecordSchedulerOptions
  readonly #now: () => number
  readonly #runs = new Map<T, TaskRun>()
  /** Tasks ready for a record but without a free slot, first come first served. */
  readonly #queue: T[] = []
  #started = false
  #inFlight = 0
  #error: { error: unknown } | undefined
  #processed = 0
  #busyMs = 0
  /** Since when at least one unit is in flight. */
  #busySince: number | undefined

  constructor(options: RecordSchedulerOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  add(task: T): void {
    this.#runs.set(task, { current: undefined, held: false, failed: false, queued: false })
  }

  /** Forgets a task; a unit it has in flight is abandoned (it finishes on its own, unseen). */
  remove(task: T): void {
    const run = this.#runs.get(task)
    if (!run) return
    this.#runs.delete(task)
    if (run.current) this.#finished()
    this.#dequeue(task, run)
  }

  /** Whether the task has a record or punctuator in flight. */
  isBusy(task: T): boolean {
    return this.#runs.get(task)?.current !== undefined
  }

  /** Records processed since start (synchronous and asynchronous ones), abandoned ones excluded. */
  get processed(): number {
    return this.#processed
  }

  /** Milliseconds with at least one unit in flight or synchronous records being processed. */
  get busyMs(): number {
    return this.#busyMs + (this.#busySince === undefined ? 0 : this.#now() - this.#busySince)
  }

  /** Records in flight now and when the oldest started; undefined when none is. */
  get inFlight(): { records: number; oldestStartedAt: number } | undefined {
    let records = 0
    let oldestStartedAt = Number.POSITIVE_INFINITY
    for (const run of this.#runs.values()) {
      if (run.current?.kind !== 'record') continue
      records++
      oldestStartedAt = Math.min(oldestStartedAt, run.current.startedAt)
    }
    return records === 0 ? undefined : { records, oldestStartedAt }
  }

  /**
   * Processes records across the tasks, a slice per task per round, until none can start or `deadline` passes;
   * asynchronous records are left in flight (they continue on their own). Throws a failure of a unit that ran
   * outside this call. Returns the records processed synchronously.
   */
  run(deadline: number): number {
    this.throwIfFailed()
    this.#started = true
    const startedAt = this.#now()
    const busyBefore = this.#busySince !== undefined
    let processed = 0
    let progress = true
    while (progress && this.#now() < deadline) {
      progress = false
      for (const [task, run] of this.#runs) {
        const outcome = this.#continue(task, run)
        processed += outcome.processed
        if (outcome.processed > 0 || outcome.started) progress = true
      }
    }
    // Time spent on synchronous records counts as busy unless units in flight already covered it.
    if (processed > 0 && !busyBefore) this.#busyMs += (this.#busySince ?? this.#now()) - startedAt
    this.#processed += processed
    return processed
  }

  /**
   * Fires due wall-clock punctuators of the idle tasks (a task with a unit in flight fires them when it is done);
   * true when any fired or went asynchronous.
   */
  punctuate(nowMs: number): boolean {
    this.throwIfFailed()
    let fired = false
    for (const [task, run] of this.#runs) {
      if (this.#mayStart(task, run)) fired = this.#punctuate(task, run, nowMs) !== false || fired
    }
    return fired
  }

  /** No new record starts in these tasks until `release()`. */
  hold(tasks: Iterable<T>): void {
    for (const task of tasks) {
      const run = this.#runs.get(task)
      if (run) run.held = true
    }
  }

  /** Ends every hold; held tasks start again at the next `run()`. */
  release(): void {
    for (const run of this.#runs.values()) run.held = false
  }

  /** Holds the tasks and waits until none has a unit in flight or `timeoutMs` passed; returns those still busy. */
  async settle(tasks: readonly T[], timeoutMs: number): Promise<T[]> {
    this.hold(tasks)
    const pending = tasks.flatMap((task) => {
      const current = this.#runs.get(task)?.current
      return current ? [current.done] : []
    })
    if (pending.length > 0) {
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs)
      })
      await Promise.race([Promise.all(pending), timedOut])
      clearTimeout(timer)
    }
    return tasks.filter((task) => this.isBusy(task))
  }

  throwIfFailed(): void {
    if (this.#error) throw this.#error.error
  }

  #mayStart(task: T, run: TaskRun): boolean {
    return (
      this.#started &&
      this.#error === undefined &&
      run.current === undefined &&
      !run.held &&
      !run.failed &&
      !task.restoring &&
      (this.#options.mayStart?.() ?? true)
    )
  }

  /**
   * Lets an idle task go on: due wall-clock punctuators, then records until one is asynchronous, none is ready,
   * no slot is free (the task queues) or its slice is used up.
   */
  #continue(task: T, run: TaskRun): { processed: number; started: boolean } {
    let processed = 0
    let started = false
    if (this.#mayStart(task, run)) {
      try {
        if (this.#punctuate(task, run, this.#now()) === 'async') started = true
        else {
          for (let i = 0; i < SLICE && task.graph.readyToProcess(); i++) {
            if (!this.#slotFor(task)) {
              this.#enqueue(task, run)
              return { processed, started }
            }
            const step = task.graph.processNext()
            if (step === false) break
            if (step === true) {
              processed++
              continue
            }
            this.#track(task, run, 'record', step)
            started = true
            break
          }
        }
      } catch (error) {
        run.failed = true
        this.#dequeue(task, run)
        throw error
      }
    }
    this.#dequeue(task, run)
    return { processed, started }
  }

  /** A slot is free for this task: below the bound, and no other task queued before it. */
  #slotFor(task: T): boolean {
    return this.#inFlight < this.#options.maxInFlight && (this.#queue.length === 0 || this.#queue[0] === task)
  }

  /** True when a punctuator fired; `async` when one went asynchronous (the task is then busy with it). */
  #punctuate(task: T, run: TaskRun, nowMs: number): boolean | 'async' {
    const fired = task.graph.punctuateWallClock(nowMs)
    if (!isPromiseLike(fired)) return fired
    this.#track(task, run, 'punctuation', fired)
    return 'async'
  }

  #enqueue(task: T, run: TaskRun): void {
    if (run.queued) return
    run.queued = true
    this.#queue.push(task)
  }

  #dequeue(task: T, run: TaskRun): void {
    if (!run.queued) return
    run.queued = false
    this.#queue.splice(this.#queue.indexOf(task), 1)
  }

  #track(task: T, run: TaskRun, kind: InFlight['kind'], step: Promise<boolean>): void {
    this.#dequeue(task, run)
    if (this.#inFlight++ === 0) this.#busySince = this.#now()
    const done = step.then(
      () => this.#completed(task, run, kind, undefined),
      (error: unknown) => this.#completed(task, run, kind, { error })
    )
    run.current = { kind, startedAt: this.#now(), done }
  }

  #finished(): void {
    if (--this.#inFlight === 0 && this.#busySince !== undefined) {
      this.#busyMs += this.#now() - this.#busySince
      this.#busySince = undefined
    }
  }

  #completed(task: T, run: TaskRun, kind: InFlight['kind'], failure: { error: unknown } | undefined): void {
    // Abandoned (the task was closed meanwhile): its outcome belongs to nobody.
    if (this.#runs.get(task) !== run) return
    run.current = undefined
    this.#finished()
    if (failure) {
      run.failed = true
      this.#error ??= failure
      return
    }
    if (kind === 'record') this.#processed++
    try {
      // The freed slot goes to the tasks that waited longest; this one queues behind them if they take it.
      while (this.#queue.length > 0 && this.#inFlight < this.#options.maxInFlight) {
        const next = this.#queue[0]!
        this.#processed += this.#continue(next, this.#runs.get(next)!).processed
      }
      if (this.#runs.get(task) === run) this.#processed += this.#continue(task, run).processed
    } catch (error) {
      this.#error ??= { error }
    }
  }
}
