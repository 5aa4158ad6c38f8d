/**
 * What keeps the query endpoint from starving the app's processing (they share one event loop): at most
 * `maxConcurrent` queries in progress per instance (more are refused at once with a retriable 429, not queued), at
 * most `maxRate` client queries a second when set (429 too), and
 * bounded scans: a page holds at most `MAX_PAGE` entries, the scan keeps only the page's worth in memory and gives
 * the event loop a turn every `SCAN_CHUNK` entries it reads.
 */
import { setImmediate as turn } from 'node:timers/promises'
import { QueryError } from './errors.ts'
import { integerParam } from './query-json.ts'

/** Entries per page (ranges) or windows/sessions per answer when the request names no `limit`. */
export const DEFAULT_PAGE = 100
/** The largest `limit` a request may ask for; a larger one is cut to it. */
export const MAX_PAGE = 1000
/** Queries in progress at once on one instance (forwarded ones included) when the config names no other. */
export const DEFAULT_MAX_CONCURRENT = 16
/** Entries a scan reads between two turns of the event loop. */
export const SCAN_CHUNK = 1000

/** The request's `limit`, cut to MAX_PAGE; fewer than 1 is a bad request. */
export function pageLimit(text: string | undefined, fallback = DEFAULT_PAGE): number {
  const limit = Math.min(integerParam('limit', text, fallback), MAX_PAGE)
  if (limit < 1) throw new QueryError('STREAMLANE_QUERY_REQUEST_INVALID', `limit=${limit} must be at least 1`)
  return limit
}

/** Counts the queries in progress; `enter` refuses past the maximum with a retriable 429. */
export class ConcurrencyGate {
  readonly max: number
  #inProgress = 0

  constructor(max: number) {
    this.max = max
  }

  get inProgress(): number {
    return this.#inProgress
  }

  /** Runs `work` in a slot, or throws STREAMLANE_QUERY_BUSY when every slot is taken. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#inProgress >= this.max) {
      throw new QueryError(
        'STREAMLANE_QUERY_BUSY',
        `this instance is answering ${this.max} queries already (queryMaxConcurrent); retry shortly`
      )
    }
    this.#inProgress++
    try {
      return await work()
    } finally {
      this.#inProgress--
    }
  }
}

/**
 * At most `perSecond` queries a second from clients (a token bucket holding one second's worth, so a burst of up to
 * `perSecond` passes at once); past it `take` refuses with a retriable 429 at once. Queries forwarded by peers are
 * not counted again: the instance a client asked counted them.
 */
export class RateLimiter {
  readonly perSecond: number
  readonly #now: () => number
  #tokens: number
  #at: number

  constructor(perSecond: number, now: () => number = Date.now) {
    this.perSecond = perSecond
    this.#now = now
    this.#tokens = perSecond
    this.#at = now()
  }

  /** Takes one query's token, or throws STREAMLANE_QUERY_BUSY when this second's are spent. */
  take(): void {
    const now = this.#now()
    this.#tokens = Math.min(this.perSecond, this.#tokens + ((now - this.#at) / 1000) * this.perSecond)
    this.#at = now
    if (this.#tokens < 1) {
      throw new QueryError(
        'STREAMLANE_QUERY_BUSY',
        `this instance takes at most ${this.perSecond} queries a second (queryMaxRate); retry shortly`
      )
    }
    this.#tokens -= 1
  }
}

/**
 * The `limit` smallest items of `items` by `compare` that `keep` accepts, in order, and whether more were accepted:
 * memory stays at `limit + 1` items however long the scan, and the event loop gets a turn every SCAN_CHUNK items.
 */
export async function smallest<T>(
  items: Iterable<T>,
  limit: number,
  compare: (a: T, b: T) => number,
  keep: (item: T) => boolean = () => true
): Promise<{ items: T[]; more: boolean }> {
  const buffer: T[] = []
  let read = 0
  for (const item of items) {
    if (++read % SCAN_CHUNK === 0) await turn()
    if (!keep(item)) continue
    if (buffer.length > limit && compare(item, buffer[buffer.length - 1]!) >= 0) continue
    // Insertion by binary search: the buffer stays sorted and at most limit + 1 long.
    let low = 0
    let high = buffer.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (compare(buffer[mid]!, item) <= 0) low = mid + 1
      else high = mid
    }
    buffer.splice(low, 0, item)
    if (buffer.length > limit + 1) buffer.pop()
  }
  return { items: buffer.slice(0, limit), more: buffer.length > limit }
}
