import { isPromiseLike } from '../topology/index.ts'

/**
 * Runs the driver's operations one after another. A synchronous topology never makes a promise, so its operations
 * run and return at once; once one returned a promise (an asynchronous processor or punctuator), later operations
 * wait until it has settled.
 */
export class SerialOperations {
  /** Settles when the last asynchronous operation has; later operations wait for it. */
  #pending: Promise<void> | null = null

  /** Runs `work` now, or after the asynchronous operation still in progress. */
  run(work: () => void | Promise<void>): void | Promise<void> {
    const result = this.#pending ? this.#pending.then(work) : work()
    if (!isPromiseLike(result)) return
    const settled: Promise<void> = result.then(
      () => this.#clearPending(settled),
      () => this.#clearPending(settled)
    )
    this.#pending = settled
    return result
  }

  #clearPending(settled: Promise<void>): void {
    if (this.#pending === settled) this.#pending = null
  }
}
