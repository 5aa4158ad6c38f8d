/**
 * A typed client of the query endpoint (docs/interactive-queries.md) for Node services: `streamlane/query`. It talks
 * to any instance (or a Service in front of them all), retries the endpoint's retriable answers (503 while the group
 * moves, 502 while a dead owner's tasks have not moved yet, 429 when the endpoint is busy) a bounded number of times
 * with a growing pause, and reads 64-bit integers back as bigint when they do not fit a number.
 * Nothing here loads the app runtime or its stores.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { ERROR_CODES, type StreamlaneErrorCode } from '../../error-codes.ts'
import { StreamlaneError } from '../../errors.ts'

export type KeyFormat = 'string' | 'long' | 'int' | 'json' | 'base64'

export interface QueryClientOptions {
  /** Base URL of an instance's HTTP server or a Service in front of them, e.g. `http://word-count:8080`. */
  url: string
  /** The endpoint's bearer token (`metricsToken`). */
  token?: string
  /** Per request; default 10 s. */
  timeoutMs?: number
  /**
   * Retries of a retriable answer (the group is moving, the owner died, the endpoint is busy); default 5, pauses of
   * 100, 200, 400 ... ms (about 3 s in all). The last answer's error is thrown after them.
   */
  retries?: number
  /** Called before each retry, with the retriable answer (e.g. to count them). */
  onRetry?: (error: QueryAnswerError, attempt: number) => void
}

/** An error answer of the endpoint: its HTTP status and the `code` it named. */
export class QueryAnswerError extends StreamlaneError {
  readonly status: number
  /** Asking again shortly may be answered: the endpoint said so, or the status is 503 or 429. */
  readonly retriable: boolean

  constructor(status: number, code: string, message: string, retriable = status === 503 || status === 429) {
    const known = (ERROR_CODES as readonly string[]).includes(code)
    super(known ? (code as StreamlaneErrorCode) : 'STREAMLANE_QUERY_FORWARD_FAILED', `HTTP ${status}: ${message}`)
    this.status = status
    this.retriable = retriable
  }
}

export interface KeyOptions {
  keyFormat?: KeyFormat
  /** Kafka Streams' enableStaleStores: a standby copy may answer (the endpoint's `stale=true`), behind by its lag. */
  stale?: boolean
}

export interface RangeOptions<K> extends KeyOptions {
  from?: K
  to?: K
  /** Entries per request (default 100, at most 1000). */
  pageSize?: number
}

/** Integers beyond 2^53 come back as bigint (JSON.parse with the source text, Node >= 21). */
function parseJson(text: string): unknown {
  return JSON.parse(text, (_key, value, context?: { source?: string }) =>
    typeof value === 'number' && !Number.isSafeInteger(value) && /^-?\d+$/.test(context?.source ?? '')
      ? BigInt(context!.source!)
      : value
  )
}

const keyText = (key: unknown) =>
  typeof key === 'string' ? key : typeof key === 'bigint' ? key.toString() : JSON.stringify(key)

export class QueryClient {
  readonly #options: Required<Omit<QueryClientOptions, 'token' | 'onRetry'>> &
    Pick<QueryClientOptions, 'token' | 'onRetry'>

  constructor(options: QueryClientOptions) {
    this.#options = { timeoutMs: 10_000, retries: 5, ...options, url: options.url.replace(/\/+$/, '') }
  }

  async #get(path: string, params: Record<string, string | undefined> = {}): Promise<Record<string, unknown>> {
    const search = new URLSearchParams()
    for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, value)
    const query = search.size > 0 ? `?${search}` : ''
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.#options.token) headers.authorization = `Bearer ${this.#options.token}`
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${this.#options.url}${path}${query}`, {
        headers,
        signal: AbortSignal.timeout(this.#options.timeoutMs)
      })
      const text = await response.text()
      // A proxy in front of the endpoint may answer an error page rather than JSON.
      const body = (response.ok || text.startsWith('{') ? parseJson(text) : {}) as Record<string, unknown>
      if (response.ok) return body
      const error = body.error as { code?: string; message?: string; retriable?: boolean } | undefined
      const failure = new QueryAnswerError(
        response.status,
        error?.code ?? '',
        error?.message ?? response.statusText,
        error?.retriable === true || undefined
      )
      if (!failure.retriable || attempt >= this.#options.retries) throw failure
      this.#options.onRetry?.(failure, attempt + 1)
      await delay(100 * 2 ** attempt)
    }
  }

  /** The key's value, or null when the store has none. */
  async get<V>(store: string, key: unknown, options: KeyOptions = {}): Promise<V | null> {
    try {
      const body = await this.#get(`/stores/${encodeURIComponent(store)}/keys/${encodeURIComponent(keyText(key))}`, {
        keyFormat: options.keyFormat,
        stale: options.stale ? 'true' : undefined
      })
      return body.value as V
    } catch (error) {
      if (error instanceof QueryAnswerError && error.code === 'STREAMLANE_QUERY_KEY_NOT_FOUND') return null
      throw error
    }
  }

  /**
   * Raw bytes, for a service without the app's serdes: the value of the key whose bytes (as written to Kafka) are
   * `key`, as the bytes the store's value serde makes, or null when the store has none.
   */
  async getBytes(store: string, key: Uint8Array, options: Omit<KeyOptions, 'keyFormat'> = {}): Promise<Buffer | null> {
    try {
      const base64 = Buffer.from(key).toString('base64')
      const body = await this.#get(`/stores/${encodeURIComponent(store)}/keys/${encodeURIComponent(base64)}`, {
        keyFormat: 'base64',
        format: 'base64',
        stale: options.stale ? 'true' : undefined
      })
      return Buffer.from(body.value as string, 'base64')
    } catch (error) {
      if (error instanceof QueryAnswerError && error.code === 'STREAMLANE_QUERY_KEY_NOT_FOUND') return null
      throw error
    }
  }

  /** Every entry from `from` to `to` (inclusive, sorted by key), over every instance, fetched a page at a time. */
  async *range<K, V>(store: string, options: RangeOptions<K> = {}): AsyncGenerator<{ key: K; value: V }> {
    let after: K | undefined
    for (;;) {
      const body = await this.#get(`/stores/${encodeURIComponent(store)}/keys`, {
        keyFormat: options.keyFormat,
        from: options.from === undefined ? undefined : keyText(options.from),
        to: options.to === undefined ? undefined : keyText(options.to),
        after: after === undefined ? undefined : keyText(after),
        limit: String(options.pageSize ?? 100)
      })
      yield* body.entries as { key: K; value: V }[]
      if (body.next === null || body.next === undefined) return
      after = body.next as K
    }
  }

  /**
   * The key's windows starting in [from, to] (ms), oldest first (newest first with `backward`), fetched `pageSize`
   * windows a request (default and at most 1000).
   */
  async windows<V>(
    store: string,
    key: unknown,
    options: KeyOptions & { from?: number; to?: number; backward?: boolean; pageSize?: number } = {}
  ): Promise<{ start: number; value: V }[]> {
    const windows: { start: number; value: V }[] = []
    let { from, to } = options
    for (;;) {
      const body = await this.#get(`/stores/${encodeURIComponent(store)}/windows/${encodeURIComponent(keyText(key))}`, {
        keyFormat: options.keyFormat,
        stale: options.stale ? 'true' : undefined,
        from: from?.toString(),
        to: to?.toString(),
        backward: options.backward ? 'true' : undefined,
        limit: options.pageSize?.toString()
      })
      windows.push(...(body.windows as { start: number; value: V }[]))
      const next = body.next as number | null | undefined
      if (next === null || next === undefined) return windows
      // The next page starts at the first window this one left out.
      if (options.backward) to = next
      else from = next
    }
  }

  /**
   * The key's sessions that end at or after `from` and start at or before `to` (ms; default all), in end order,
   * fetched `pageSize` sessions a request (default and at most 1000).
   */
  async sessions<V>(
    store: string,
    key: unknown,
    options: KeyOptions & { from?: number; to?: number; pageSize?: number } = {}
  ): Promise<{ start: number; end: number; value: V }[]> {
    const sessions: { start: number; end: number; value: V }[] = []
    let { from } = options
    for (;;) {
      const body = await this.#get(
        `/stores/${encodeURIComponent(store)}/sessions/${encodeURIComponent(keyText(key))}`,
        {
          keyFormat: options.keyFormat,
          stale: options.stale ? 'true' : undefined,
          from: from?.toString(),
          to: options.to?.toString(),
          limit: options.pageSize?.toString()
        }
      )
      sessions.push(...(body.sessions as { start: number; end: number; value: V }[]))
      const next = body.next as number | null | undefined
      if (next === null || next === undefined) return sessions
      // The next page starts at the end of the first session this one left out.
      from = next
    }
  }

  /** Every instance with its applicationServer and the partitions it holds. */
  async metadata(): Promise<unknown[]> {
    return (await this.#get('/query/metadata')).instances as unknown[]
  }
}
