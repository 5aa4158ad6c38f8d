/**
 * The lock that loop iterations, rebalance callbacks and close share (see Mutex), so a task is never given away
 * halfway through a batch. A fenced producer anywhere in a section is not fatal under exactly-once: the affected
 * tasks close and the member rejoins (Committer.recoverFromFencing).
 */
import { ProducerFencedError } from '../kafka/index.ts'
import { Mutex } from './mutex.ts'
import type { RunningApp } from './running-app.ts'

export interface AppLockOptions {
  exactlyOnce: boolean
  /** Whether the app is stopping: a fencing then ends the section with its error. */
  stopping(): boolean
}

export class AppLock {
  readonly #mutex = new Mutex()
  readonly #options: AppLockOptions

  constructor(options: AppLockOptions) {
    this.#options = options
  }

  /** Runs `work` once every section before it is done. */
  run(running: RunningApp, work: () => Promise<void>): Promise<void> {
    return this.#mutex.run(async () => {
      try {
        await work()
      } catch (error) {
        const fenced = fencingOf(error)
        if (!fenced || !this.#options.exactlyOnce || this.#options.stopping()) throw error
        await running.committer.recoverFromFencing(fenced)
      }
    })
  }
}

/** The fencing behind `error`, which may come wrapped (a processor's send, a production failure). */
function fencingOf(error: unknown): ProducerFencedError | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ProducerFencedError) return e
  }
  return undefined
}
