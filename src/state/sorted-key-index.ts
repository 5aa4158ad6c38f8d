/**
 * The ordered key set behind every in-memory structure (backend, pending write batch, record cache): keys as latin1
 * strings (see bytes.ts) in sorted chunks, like Python's `sortedcontainers.SortedList`. A flat sorted array would
 * shift half a million slots per insert at 1M keys; chunks of at most 2 * LOAD keys make an insert a binary search
 * over the chunk maxima plus a splice of at most 2 * LOAD slots, and ordered scans stay array walks.
 *
 * Iteration tolerates writes between `next()` calls (a processor deleting while it scans): a cursor remembers the
 * last key it returned and, when the set changed structurally since, seeks again from that key.
 */

const LOAD = 512

export class SortedKeyIndex {
  #chunks: string[][] = []
  /** The last (largest) key of each chunk, for the first binary search. */
  #maxima: string[] = []
  #size = 0
  /** Bumped by every insert and delete, so cursors know when their position went stale. */
  #version = 0

  get size(): number {
    return this.#size
  }

  /** Adds `key`, which the caller knows is absent (it checks its own map first). */
  insert(key: string): void {
    this.#version++
    this.#size++
    if (this.#chunks.length === 0) {
      this.#chunks.push([key])
      this.#maxima.push(key)
      return
    }
    let c = lowerBound(this.#maxima, key)
    if (c === this.#chunks.length) c-- // larger than every key: append to the last chunk
    const chunk = this.#chunks[c]!
    chunk.splice(lowerBound(chunk, key), 0, key)
    this.#maxima[c] = chunk[chunk.length - 1]!
    if (chunk.length > 2 * LOAD) {
      const upper = chunk.splice(LOAD)
      this.#chunks.splice(c + 1, 0, upper)
      this.#maxima.splice(c, 1, chunk[chunk.length - 1]!, upper[upper.length - 1]!)
    }
  }

  /** Removes `key`, which the caller knows is present. */
  delete(key: string): void {
    const c = lowerBound(this.#maxima, key)
    const chunk = this.#chunks[c]
    if (chunk === undefined) return
    const i = lowerBound(chunk, key)
    if (chunk[i] !== key) return
    this.#version++
    this.#size--
    chunk.splice(i, 1)
    if (chunk.length === 0) {
      this.#chunks.splice(c, 1)
      this.#maxima.splice(c, 1)
    } else {
      this.#maxima[c] = chunk[chunk.length - 1]!
    }
  }

  clear(): void {
    this.#version++
    this.#chunks = []
    this.#maxima = []
    this.#size = 0
  }

  /** Keys from `from` to `to` (inclusive, `undefined` = open), ascending or descending. */
  *range(from: string | undefined, to: string | undefined, reverse: boolean): Generator<string, undefined> {
    if (from !== undefined && to !== undefined && from > to) return
    let last: string | undefined
    let version = -1
    let c = 0
    let i = 0
    for (;;) {
      if (version !== this.#version) {
        // First call, or the set changed under us: find the position again from the last key returned.
        version = this.#version
        const position = reverse
          ? this.#seekLast(last === undefined ? to : last, last !== undefined)
          : this.#seekFirst(last === undefined ? from : last, last !== undefined)
        c = position[0]
        i = position[1]
      }
      const chunk = this.#chunks[c]
      if (chunk === undefined || i < 0 || i >= chunk.length) return
      const key = chunk[i]!
      if (reverse ? from !== undefined && key < from : to !== undefined && key > to) return
      last = key
      if (reverse) {
        if (--i < 0 && --c >= 0) i = this.#chunks[c]!.length - 1
      } else if (++i >= chunk.length) {
        c++
        i = 0
      }
      yield key
    }
  }

  /** Position of the first key >= `bound` (> `bound` when `exclusive`). */
  #seekFirst(bound: string | undefined, exclusive: boolean): [number, number] {
    if (bound === undefined) return [0, 0]
    const c = exclusive ? upperBound(this.#maxima, bound) : lowerBound(this.#maxima, bound)
    const chunk = this.#chunks[c]
    if (chunk === undefined) return [c, 0]
    return [c, exclusive ? upperBound(chunk, bound) : lowerBound(chunk, bound)]
  }

  /** Position of the last key <= `bound` (< `bound` when `exclusive`). */
  #seekLast(bound: string | undefined, exclusive: boolean): [number, number] {
    const chunks = this.#chunks
    if (chunks.length === 0) return [-1, -1]
    if (bound === undefined) return [chunks.length - 1, chunks[chunks.length - 1]!.length - 1]
    // The chunk that would hold `bound`; the answer is in it or is the previous chunk's last key.
    let c = exclusive ? lowerBound(this.#maxima, bound) : upperBound(this.#maxima, bound)
    if (c === chunks.length) c--
    const chunk = chunks[c]!
    const i = (exclusive ? lowerBound(chunk, bound) : upperBound(chunk, bound)) - 1
    if (i >= 0) return [c, i]
    return c > 0 ? [c - 1, chunks[c - 1]!.length - 1] : [-1, -1]
  }
}

/** First index whose element is >= `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (sorted[mid]! < key) low = mid + 1
    else high = mid
  }
  return low
}

/** First index whose element is > `key`. */
function upperBound(sorted: readonly string[], key: string): number {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (sorted[mid]! <= key) low = mid + 1
    else high = mid
  }
  return low
}
