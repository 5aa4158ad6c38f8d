/**
 * Kafka record headers: an ordered list of (key, value) pairs where a key may repeat. Immutable, because a record
 * forwarded to several children shares its headers: a change made by one branch must not leak into another, so every
 * change returns new headers.
 */
export type HeaderValue = Buffer | null

export type HeaderEntry = readonly [key: string, value: HeaderValue]

export class Headers implements Iterable<HeaderEntry> {
  static readonly empty: Headers = new Headers([])

  readonly #entries: readonly HeaderEntry[]

  private constructor(entries: readonly HeaderEntry[]) {
    this.#entries = entries
  }

  /**
   * Headers from entries as a Kafka client returns them (keys and values as Buffer or string) or from a plain
   * object. Strings are stored as UTF-8.
   */
  static from(
    source:
      | Iterable<readonly [string | Buffer, Buffer | string | null | undefined]>
      | { readonly [key: string]: Buffer | string | null }
  ): Headers {
    const entries: HeaderEntry[] = []
    const iterable = Symbol.iterator in source ? source : Object.entries(source)
    for (const [key, value] of iterable as Iterable<readonly [string | Buffer, Buffer | string | null | undefined]>) {
      entries.push([typeof key === 'string' ? key : key.toString('utf8'), toHeaderValue(value)])
    }
    return entries.length === 0 ? Headers.empty : new Headers(entries)
  }

  get size(): number {
    return this.#entries.length
  }

  /** The last value of `key` (Kafka's `lastHeader`), `null` for a header without value, `undefined` if absent. */
  get(key: string): HeaderValue | undefined {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i]!
      if (entry[0] === key) return entry[1]
    }
    return undefined
  }

  /** The last value of `key` decoded as UTF-8. */
  getString(key: string): string | undefined {
    const value = this.get(key)
    return value === undefined || value === null ? undefined : value.toString('utf8')
  }

  getAll(key: string): HeaderValue[] {
    return this.#entries.filter((entry) => entry[0] === key).map((entry) => entry[1])
  }

  has(key: string): boolean {
    return this.#entries.some((entry) => entry[0] === key)
  }

  /** New headers with `key` appended (earlier values of `key` are kept, as Kafka allows). */
  with(key: string, value: Buffer | string | null): Headers {
    return new Headers([...this.#entries, [key, toHeaderValue(value)]])
  }

  /** New headers where `key` has exactly one value. */
  set(key: string, value: Buffer | string | null): Headers {
    return new Headers([...this.#entries.filter((entry) => entry[0] !== key), [key, toHeaderValue(value)]])
  }

  without(key: string): Headers {
    return new Headers(this.#entries.filter((entry) => entry[0] !== key))
  }

  toArray(): HeaderEntry[] {
    return [...this.#entries]
  }

  [Symbol.iterator](): Iterator<HeaderEntry> {
    return this.#entries[Symbol.iterator]()
  }
}

function toHeaderValue(value: Buffer | string | null | undefined): HeaderValue {
  if (value === null || value === undefined) return null
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value
}
