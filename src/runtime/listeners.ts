/** The listeners of one kind of event, called in the order they were added. */
export class Listeners<Args extends unknown[]> {
  readonly #listeners = new Set<(...args: Args) => void>()

  /** Adds `listener`; the function returned removes it again. */
  add(listener: (...args: Args) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Calls every listener; with `onThrow`, what one throws goes there and the others are still called. */
  emit(args: Args, onThrow?: (error: unknown) => void): void {
    for (const listener of this.#listeners) {
      if (!onThrow) listener(...args)
      else {
        try {
          listener(...args)
        } catch (error) {
          onThrow(error)
        }
      }
    }
  }
}
