/**
 * Serialises async sections: the processing loop, rebalance callbacks and close each run whole, one at a time, so a
 * task is never revoked in the middle of a batch.
 */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve()

  run<T>(section: () => T | Promise<T>): Promise<T> {
    const result = this.#tail.then(section)
    this.#tail = result.catch(() => undefined)
    return result
  }
}
