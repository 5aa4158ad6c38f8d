/** A key and its value, as stores return them. */
export interface KeyValue<K, V> {
  readonly key: K
  readonly value: V
}

/**
 * A synchronous, closeable iterator over store entries. `for...of` closes it on `break`; call `close()` when you stop
 * calling `next()` yourself. LMDB iterators hold a read snapshot until closed, which keeps LMDB from reusing pages.
 */
export interface KeyValueIterator<K, V> extends Iterator<KeyValue<K, V>, undefined>, Iterable<KeyValue<K, V>> {
  /** The key `next()` would return, without consuming it; `undefined` at the end. */
  peekNextKey(): K | undefined
  close(): void
  [Symbol.iterator](): KeyValueIterator<K, V>
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }

/**
 * Adapts a source iterator of raw entries to a typed `KeyValueIterator`. `convert` returns `undefined` to skip an
 * entry, which is how window and session scans drop entries of other keys that share a byte prefix, and expired
 * windows. One element of look-ahead serves `peekNextKey`.
 */
export class MappingIterator<S, K, V> implements KeyValueIterator<K, V> {
  readonly #source: Iterator<S>
  readonly #convert: (entry: S) => KeyValue<K, V> | undefined
  readonly #onClose: (() => void) | undefined
  #peeked: KeyValue<K, V> | undefined
  #closed = false

  constructor(source: Iterator<S>, convert: (entry: S) => KeyValue<K, V> | undefined, onClose?: () => void) {
    this.#source = source
    this.#convert = convert
    this.#onClose = onClose
  }

  next(): IteratorResult<KeyValue<K, V>, undefined> {
    if (this.#peeked !== undefined) {
      const value = this.#peeked
      this.#peeked = undefined
      return { done: false, value }
    }
    const value = this.#advance()
    return value === undefined ? DONE : { done: false, value }
  }

  peekNextKey(): K | undefined {
    if (this.#peeked === undefined) this.#peeked = this.#advance()
    return this.#peeked?.key
  }

  return(): IteratorResult<KeyValue<K, V>, undefined> {
    this.close()
    return DONE
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#peeked = undefined
    this.#source.return?.()
    this.#onClose?.()
  }

  [Symbol.iterator](): KeyValueIterator<K, V> {
    return this
  }

  [Symbol.dispose](): void {
    this.close()
  }

  #advance(): KeyValue<K, V> | undefined {
    if (this.#closed) return undefined
    for (;;) {
      const step = this.#source.next()
      if (step.done) {
        this.close()
        return undefined
      }
      const converted = this.#convert(step.value)
      if (converted !== undefined) return converted
    }
  }
}

/** An iterator over nothing, for ranges that are empty by construction (`from` > `to`). */
export function emptyIterator<K, V>(): KeyValueIterator<K, V> {
  return new MappingIterator<never, K, V>([][Symbol.iterator](), () => undefined)
}
