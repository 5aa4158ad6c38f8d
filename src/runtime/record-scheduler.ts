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
 * Key-ordered tasks (`keyOrdered`, see KeyOrderedQueue) run up to their limit of records at once, records of one key
 * in order; a due wall-clock punctuator waits until their records in flight are done, and a held key-ordered task
 * still starts the records before its furthest started one (its commit covers a contiguous run of finished records).
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
    /** Whether a wall-clock punctuator is due (a key-ordered task stops starting records for it). */
    wallClockDue?(nowMs: number): boolean
  }
  /** A restoring task processes nothing. */
  readonly restoring: boolean
  /** Key-ordered mode: several records at once, one per key; absent, the task runs one record at a time. */
  readonly keyOrdered?: KeyOrderedRecords
}

/** What the scheduler needs of a key-ordered task's records. */
export interface KeyOrderedRecords {
  /** Records of the task in flight at most. */
  readonly limit: number
  /**
   * Starts the next record that may start (`holesOnly`: only one before the furthest started record of its
   * partition); undefined when none may.
   */
  startNext(holesOnly: boolean): Step | undefined
  /** Records before the furthest started one wait to start: the task is not at a commit boundary. */
  readonly hasHoles: boolean
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
  readonly units: Set<InFlight>
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
    this.#runs.set(task, { units: new Set(), held: false, failed: false, queued: false })
  }

  /** Forgets a task; a unit it has in flight is abandoned (it finishes on its own, unseen). */
  remove(task: T): void {
    const run = this.#runs.get(task)
    if (!run) return
    this.#runs.delete(task)
    for (const _ of run.units) this.#finished()
    this.#dequeue(task, run)
  }

  /**
   * Whether the task has a record or punctuator in flight, or (key-ordered) records waiting before its furthest
   * started one: not at a point where a commit covers everything it started.
   */
  isBusy(task: T): boolean {
    const run = this.#runs.get(task)
    return run !== undefined && (run.units.size > 0 || (task.keyOrdered?.hasHoles ?? false))
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
      for (const unit of run.units) {
        if (unit.kind !== 'record') continue
        records++
        oldestStartedAt = Math.min(oldestStartedAt, unit.startedAt)
      }
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
      if (run.units.size === 0 && !run.held && this.#mayStart(task, run))
        fired = this.#punctuate(task, run, nowMs) !== false || fired
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

  /** Holds the tasks and waits until none is busy (see `isBusy`) or `timeoutMs` passed; returns those still busy. */
  async settle(tasks: readonly T[], timeoutMs: number): Promise<T[]> {
    this.hold(tasks)
    let timer: NodeJS.Timeout | undefined
    let timedOut = false
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true
        resolve()
      }, timeoutMs)
    })
    try {
      // A finished unit may start a key-ordered task's gap records (held tasks still fill their gaps): wait again.
      while (!timedOut && tasks.some((task) => this.isBusy(task))) {
        const pending = [...this.#runs.values()].flatMap((run) => [...run.units].map((unit) => unit.done))
        if (pending.length === 0) break
        await Promise.race([...pending, timeout])
      }
    } finally {
      clearTimeout(timer)
    }
    return tasks.filter((task) => this.isBusy(task))
  }

  throwIfFailed(): void {
    if (this.#error) throw this.#error.error
  }

  /** Whether the task may start work now, held or not (a held task may only fill key-ordered gaps). */
  #mayStart(task: T, run: TaskRun): boolean {
    return (
      this.#started &&
      this.#error === undefined &&
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
    if (task.keyOrdered) return this.#continueKeyOrdered(task, run, task.keyOrdered)
    let processed = 0
    let started = false
    if (run.units.size === 0 && !run.held && this.#mayStart(task, run)) {
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

  /**
   * A key-ordered task: due wall-clock punctuators once nothing is in flight (new records wait for them), then
   * records while its limit, a slot and the key order allow (a held task only fills the gaps before its furthest
   * started record).
   */
  #continueKeyOrdered(task: T, run: TaskRun, records: KeyOrderedRecords): { processed: number; started: boolean } {
    let processed = 0
    let started = false
    if (!this.#mayStart(task, run)) {
      this.#dequeue(task, run)
      return { processed, started }
    }
    try {
      const now = this.#now()
      if (run.units.size === 0 && !run.held && this.#punctuate(task, run, now) === 'async') started = true
      else if (run.held || !task.graph.wallClockDue?.(now)) {
        for (let i = 0; i < SLICE && run.units.size < records.limit; i++) {
          if (!this.#slotFor(task)) {
            // Only a task with nothing in flight queues: freed slots go to those first (fair across tasks); one
            // with records in flight tries again as each of them finishes.
            if (run.units.size === 0) this.#enqueue(task, run)
            return { processed, started }
          }
          const step = records.startNext(run.held)
          if (step === undefined || step === false) break
          if (step === true) processed++
          else {
            this.#track(task, run, 'record', step)
            started = true
          }
        }
      }
    } catch (error) {
      run.failed = true
      this.#dequeue(task, run)
      throw error
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
    const unit: { kind: InFlight['kind']; startedAt: number; done: Promise<void> } = {
      kind,
      startedAt: this.#now(),
      done: Promise.resolve()
    }
    unit.done = step.then(
      () => this.#completed(task, run, unit, undefined),
      (error: unknown) => this.#completed(task, run, unit, { error })
    )
    run.units.add(unit)
  }

  #finished(): void {
    if (--this.#inFlight === 0 && this.#busySince !== undefined) {
      this.#busyMs += this.#now() - this.#busySince
      this.#busySince = undefined
    }
  }

  #completed(task: T, run: TaskRun, unit: InFlight, failure: { error: unknown } | undefined): void {
    // Abandoned (the task was closed meanwhile): its outcome belongs to nobody.
    if (this.#runs.get(task) !== run || !run.units.delete(unit)) return
    this.#finished()
    if (failure) {
      run.failed = true
      this.#error ??= failure
      return
    }
    if (unit.kind === 'record') this.#processed++
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
