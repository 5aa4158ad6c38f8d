/**
 * The query endpoint, mounted on the app's HTTP server when `applicationServer` is set (docs/interactive-queries.md):
 *
 * - `GET /stores/:store/keys/:key`: a key-value store's value of one key.
 * - `GET /stores/:store/keys?from=&to=&limit=&after=`: a range over every instance, sorted by key, a page at a time.
 * - `GET /stores/:store/windows/:key?from=&to=&backward=`: a window store's windows of a key starting in [from, to].
 * - `GET /stores/:store/sessions/:key?from=&to=&limit=`: a session store's sessions of a key, a page at a time.
 * - `GET /query/metadata`: every instance and the partitions it holds.
 *
 * Any instance answers: a key held by another instance is forwarded to it (one hop, marked by a header so a moved key
 * cannot bounce), with the caller's Authorization header. Errors are `{ error: { code, message } }` with 404 for an
 * unknown store or key, 400 for a bad request, 503 while the group moves (retry), 502 when the owner does not answer,
 * 429 when the instance is answering `maxConcurrent` queries already (query-limits.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { KeyValue } from '../state/index.ts'
import { QueryError } from './errors.ts'
import {
  currentHostMap,
  type KeyQueryMetadata,
  metadataForAllStreamsClients,
  partitionOfKey,
  queryMetadataForKey,
  storePartitioning
} from './key-metadata.ts'
import { localKeyValueStore, localSessionStore, localWindowStore, standbyNotCaughtUp } from './local-stores.ts'
import { peerClient } from './peer-client.ts'
import { answerEncoding, integerParam, type ParsedKey, parseKey, parseKeyFormat, toJson } from './query-json.ts'
import { ConcurrencyGate, DEFAULT_MAX_CONCURRENT, MAX_PAGE, pageLimit, RateLimiter, smallest } from './query-limits.ts'
import type { QuerySource } from './query-source.ts'

/** Marks a forwarded query: the instance that gets it answers from its own stores or says the key moved. */
export const FORWARDED_HEADER = 'x-streamlane-forwarded'

/** One answered query, for the app's metrics: which route, asked by a client or forwarded by a peer, and how. */
export interface QueryAnswerEvent {
  route: 'key' | 'range' | 'windows' | 'sessions' | 'metadata'
  via: 'client' | 'peer'
  /** local: read here; forwarded: answered by the owner; busy: refused with 429; error: any other error answer. */
  outcome: 'local' | 'forwarded' | 'busy' | 'error'
}

export interface QueryRoutesOptions {
  source: QuerySource
  stores: readonly string[]
  /** How peers are reached: `https` when this server has TLS (peers then share its configuration). */
  scheme: 'http' | 'https'
  /** The CA (PEM) that signed the peers' certificates (`queryPeerCaFile`), read at each forward; else the system's. */
  peerCa?: (() => Buffer | undefined) | undefined
  /** Default 5 s: shorter than the client's own timeout, so a caller gets the clear 502 rather than timing out. */
  forwardTimeoutMs?: number
  /** Queries in progress at once (forwarded ones included); more get a retriable 429. Default 16. */
  maxConcurrent?: number
  /** Queries a second from clients (forwarded ones are counted where they came in); more get a retriable 429. */
  maxRate?: number | undefined
  onAnswer?: (event: QueryAnswerEvent) => void
}

type Params = { store: string; key?: string }
type Query = Record<string, string | undefined>
type QueryRequest = FastifyRequest<{ Params: Params; Querystring: Query }>

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(toJson(body))
}

function fail(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof QueryError) {
    if (error.retriable) reply.header('retry-after', '1')
    const body = { code: error.code, message: error.message, ...(error.retriable ? { retriable: true } : {}) }
    return send(reply, error.status, { error: body })
  }
  const message = error instanceof Error ? error.message : String(error)
  return send(reply, 500, { error: { code: 'STREAMLANE_ILLEGAL_STATE', message } })
}

/** The store's topic and serdes: a global store's (whole here), else those of its partitioned input. */
const storeSerdes = (source: QuerySource, store: string) =>
  source.globalStore?.(store) ?? storePartitioning(source, store)

/** The key in the path, by `keyFormat` (`base64`: its bytes, read with the store's key serde). */
function keyOf(source: QuerySource, request: QueryRequest): ParsedKey {
  const format = parseKeyFormat(request.query.keyFormat)
  return parseKey(
    request.params.key ?? '',
    format,
    format === 'base64' ? storeSerdes(source, request.params.store) : undefined
  )
}

/** How the answer writes keys and values: `format=base64` gives the bytes of the store's serdes. */
const encodingOf = (source: QuerySource, request: QueryRequest) =>
  answerEncoding(request.query.format, storeSerdes(source, request.params.store))

const isForwarded = (request: FastifyRequest) => request.headers[FORWARDED_HEADER] !== undefined
/** `stale=true`: a standby copy may answer (Kafka Streams' enableStaleStores), with its lag. */
const isStale = (request: QueryRequest) => request.query.stale === 'true'

/** Compares keys as typed values: numbers numerically, anything else by its JSON text. */
function compareKeys(a: unknown, b: unknown): number {
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0
  }
  const x = typeof a === 'string' ? a : toJson(a)
  const y = typeof b === 'string' ? b : toJson(b)
  return x < y ? -1 : x > y ? 1 : 0
}

export function registerQueryRoutes(server: FastifyInstance, options: QueryRoutesOptions): void {
  const { source } = options
  const timeoutMs = options.forwardTimeoutMs ?? 5_000
  const gate = new ConcurrencyGate(options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT)
  const rate = options.maxRate ? new RateLimiter(options.maxRate) : undefined
  const peerGet = peerClient({ scheme: options.scheme, peerCa: options.peerCa, timeoutMs })
  type Outcome = 'local' | 'forwarded'

  /** A route's handler in a concurrency slot, its error answered as JSON, its outcome reported. */
  function serve(
    route: QueryAnswerEvent['route'],
    handle: (request: QueryRequest, reply: FastifyReply) => Promise<Outcome>
  ) {
    return async (request: QueryRequest, reply: FastifyReply) => {
      const via = isForwarded(request) ? 'peer' : 'client'
      try {
        if (via === 'client') rate?.take()
        const outcome = await gate.run(() => handle(request, reply))
        options.onAnswer?.({ route, via, outcome })
      } catch (error) {
        const busy = error instanceof QueryError && error.code === 'STREAMLANE_QUERY_BUSY'
        options.onAnswer?.({ route, via, outcome: busy ? 'busy' : 'error' })
        fail(reply, error)
      }
      return reply
    }
  }

  async function askPeer(
    host: string,
    request: FastifyRequest,
    path: string
  ): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { accept: 'application/json', [FORWARDED_HEADER]: '1' }
    if (request.headers.authorization) headers.authorization = request.headers.authorization
    try {
      return await peerGet(host, path, headers)
    } catch (error) {
      throw new QueryError(
        'STREAMLANE_QUERY_FORWARD_FAILED',
        `instance ${host} did not answer the forwarded query (${error instanceof Error ? error.message : String(error)})`,
        { cause: error }
      )
    }
  }

  /**
   * Answers a single-key query: here when this instance holds the key's partition, else forwarded to the one that
   * does (a forwarded query that finds the key gone is a retriable 503, never a second hop). `answer` reads the
   * local stores; undefined means the key has no value.
   */
  function byKey(
    route: QueryAnswerEvent['route'],
    answer: (key: ParsedKey, request: QueryRequest) => Promise<Record<string, unknown> | undefined>
  ) {
    // A window or session answer is a list: a standby copy that has not caught up since it opened may leave out whole
    // windows without it showing, so only a caught-up copy answers those (a key lookup can tell a missing key).
    const caughtUpCopiesOnly = route !== 'key'
    return serve(route, async (request, reply) => {
      const parsed = keyOf(source, request)
      const { store } = request.params
      const stale = isStale(request)
      const send200 = (partition: number, result: Record<string, unknown> | undefined, extra = {}) => {
        if (result === undefined) {
          return send(reply, 404, {
            error: {
              code: 'STREAMLANE_QUERY_KEY_NOT_FOUND',
              message: `store ${store} has no value for key ${request.params.key}`
            }
          })
        }
        return send(reply, 200, { store, partition, host: source.localHost, ...extra, ...result })
      }
      if (source.globalStore?.(store) !== undefined) {
        // A global store is whole on every instance: this one answers.
        send200(0, await answer(parsed, request), { partition: null, global: true })
        return 'local'
      }
      if (stale) {
        // A stale read may be answered by a standby copy held here, even while the group rebalances.
        const partition = partitionOfKey(source, store, parsed.key, parsed.serde)
        const standby =
          typeof source.localStore(store, partition) === 'object' ? undefined : source.standbyStore(store, partition)
        // A copy that has not fetched its changelog yet (lag unknown) does not answer, one that lags does not say a
        // key is missing (a copy being built from scratch after a move has not seen it yet), and one that has not
        // caught up since it opened does not list windows or sessions: the owner answers.
        const usable = standby && standby.lag !== undefined && (!caughtUpCopiesOnly || standby.caughtUp)
        const result = usable ? await answer(parsed, request) : undefined
        if (standby && usable && (result !== undefined || standby.lag === 0n)) {
          send200(partition, result, { standby: true, lag: standby.lag })
          return 'local'
        }
        if (standby && !usable && caughtUpCopiesOnly && isForwarded(request)) {
          // Asked as a standby host because the owner did not answer: say why this copy cannot either.
          throw standbyNotCaughtUp(store, partition, standby.lag)
        }
      }
      const metadata = queryMetadataForKey(source, store, parsed.key, parsed.serde)
      if (metadata.activeHost !== source.localHost) {
        if (isForwarded(request)) {
          throw new QueryError(
            'STREAMLANE_QUERY_NOT_LOCAL',
            `store ${store}: partition ${metadata.partition} is held by ${metadata.activeHost} now; retry`
          )
        }
        const { status, body } = await askOwner(metadata, request, stale)
        reply.code(status).type('application/json; charset=utf-8').send(body)
        return 'forwarded'
      }
      send200(metadata.partition, await answer(parsed, request))
      return 'local'
    })
  }

  /**
   * Forwards to the key's active host; for a stale read whose active host does not answer (or cannot yet), asks the
   * hosts of its standby copies in turn.
   */
  async function askOwner(metadata: KeyQueryMetadata, request: QueryRequest, stale: boolean) {
    let first: { status: number; body: string } | QueryError
    try {
      first = await askPeer(metadata.activeHost, request, request.url)
      if (!stale || first.status < 500) return first
    } catch (error) {
      if (!stale || !(error instanceof QueryError)) throw error
      first = error
    }
    for (const host of metadata.standbyHosts.filter((h) => h !== source.localHost)) {
      const answer = await askPeer(host, request, request.url).catch(() => undefined)
      if (answer && answer.status < 500) return answer
    }
    if (first instanceof QueryError) throw first
    return first
  }

  server.get<{ Params: Params; Querystring: Query }>(
    '/stores/:store/keys/:key',
    byKey('key', async ({ key, serde }, request) => {
      const value = localKeyValueStore(source, request.params.store, {
        keySerde: serde,
        enableStaleStores: isStale(request)
      }).get(key)
      const encoding = encodingOf(source, request)
      return value === null ? undefined : { key: encoding.key(key), value: encoding.value(value) }
    })
  )

  server.get<{ Params: Params; Querystring: Query }>(
    '/stores/:store/windows/:key',
    byKey('windows', async ({ key, serde }, request) => {
      const from = integerParam('from', request.query.from, 0)
      const to = integerParam('to', request.query.to, Number.MAX_SAFE_INTEGER)
      const limit = pageLimit(request.query.limit, MAX_PAGE)
      const backward = request.query.backward === 'true'
      const encoding = encodingOf(source, request)
      const view = localWindowStore(source, request.params.store, {
        keySerde: serde,
        enableStaleStores: isStale(request)
      })
      // One partition holds the key: its windows come in start order (newest first backward), so the first `limit`
      // are the page and the one after tells where the next page starts.
      const page: { start: number; value: unknown }[] = []
      let next: number | null = null
      const iterator = backward ? view.backwardFetch(key, from, to) : view.fetch(key, from, to)
      for (const { key: start, value } of iterator) {
        if (page.length === limit) {
          next = start
          break
        }
        page.push({ start, value: encoding.value(value) })
      }
      return { key: encoding.key(key), windows: page, next }
    })
  )

  server.get<{ Params: Params; Querystring: Query }>(
    '/stores/:store/sessions/:key',
    byKey('sessions', async ({ key, serde }, request) => {
      // Sessions ending at or after `from` and starting at or before `to`, in end order: `next` is the end of the first
      // one left out, the next page's `from` (a key's sessions never overlap, so no two share an end).
      const from = integerParam('from', request.query.from, 0)
      const to = integerParam('to', request.query.to, Number.MAX_SAFE_INTEGER)
      const limit = pageLimit(request.query.limit, MAX_PAGE)
      const encoding = encodingOf(source, request)
      const view = localSessionStore(source, request.params.store, {
        keySerde: serde,
        enableStaleStores: isStale(request)
      })
      const sessions: { start: number; end: number; value: unknown }[] = []
      let next: number | null = null
      for (const { key: session, value } of view.findSessions(key, from, to)) {
        if (sessions.length === limit) {
          next = session.window.end
          break
        }
        sessions.push({ start: session.window.start, end: session.window.end, value: encoding.value(value) })
      }
      return { key: encoding.key(key), sessions, next, truncated: next !== null }
    })
  )

  /** This instance's entries of the range after the cursor, sorted: `limit` of them and whether more follow. */
  async function localRange(request: QueryRequest, limit: number) {
    const format = parseKeyFormat(request.query.keyFormat)
    const bound = (name: string) => {
      const text = request.query[name]
      return text === undefined ? null : parseKey(text, format).key
    }
    const after = bound('after')
    const { store } = request.params
    const view = localKeyValueStore<unknown, unknown>(source, store)
    const held = source.localPartitions(store).join()
    try {
      return await smallest(
        view.range(bound('from'), bound('to')),
        limit,
        (a, b) => compareKeys(a.key, b.key),
        ({ key }) => after === null || compareKeys(key, after) > 0
      )
    } catch (error) {
      // The scan gives processing turns: a task closed meanwhile (its partition moved) ends it, which is retriable.
      if (error instanceof QueryError || source.localPartitions(store).join() === held) throw error
      throw new QueryError('STREAMLANE_QUERY_UNAVAILABLE', `store ${store}: its tasks moved during the scan; retry`, {
        cause: error
      })
    }
  }

  /** A peer's page of the range; its error answer becomes this answer's (retriable when the peer's was). */
  async function peerRange(host: string, request: QueryRequest): Promise<KeyValue<unknown, unknown>[]> {
    const { status, body } = await askPeer(host, request, request.url)
    const parsed = (body.startsWith('{') ? JSON.parse(body) : {}) as {
      entries?: KeyValue<unknown, unknown>[]
      error?: { code: string; message: string }
    }
    if (status === 200 && parsed.entries) return parsed.entries
    const code =
      status === 503
        ? 'STREAMLANE_QUERY_UNAVAILABLE'
        : status === 429
          ? 'STREAMLANE_QUERY_BUSY'
          : 'STREAMLANE_QUERY_FORWARD_FAILED'
    throw new QueryError(code, `instance ${host} answered ${status}: ${parsed.error?.message ?? body}`)
  }

  server.get<{ Params: Params; Querystring: Query }>(
    '/stores/:store/keys',
    serve('range', async (request, reply) => {
      if ((request.query.format ?? 'json') !== 'json' || request.query.keyFormat === 'base64') {
        // Pages merge the instances' entries in key order, which bytes do not keep for every key type.
        throw new QueryError('STREAMLANE_QUERY_REQUEST_INVALID', 'a range answers JSON keys and values only')
      }
      const limit = pageLimit(request.query.limit)
      if (isForwarded(request)) {
        // One more than the page, so the asking instance can tell whether a next page exists.
        send(reply, 200, { entries: (await localRange(request, limit + 1)).items })
        return 'local'
      }
      // A global store is whole here: no other instance is asked.
      const global = source.globalStore?.(request.params.store) !== undefined
      const hosts = global ? [undefined] : [...currentHostMap(source).active.keys()]
      const pages = await Promise.all(
        hosts.map(async (host) =>
          host === undefined || host === source.localHost
            ? (await localRange(request, limit + 1)).items
            : peerRange(host, request)
        )
      )
      const merged = pages.flat().sort((a, b) => compareKeys(a.key, b.key))
      const entries = merged.slice(0, limit)
      const next = merged.length > limit ? entries[entries.length - 1]!.key : null
      send(reply, 200, { store: request.params.store, entries, next })
      return hosts.length > 1 ? 'forwarded' : 'local'
    })
  )

  server.get(
    '/query/metadata',
    serve('metadata', async (_request, reply) => {
      send(reply, 200, { instances: metadataForAllStreamsClients(source, options.stores) })
      return 'local'
    })
  )
}
