/**
 * The query endpoint, mounted on the app's HTTP server when `applicationServer` is set (docs/interactive-queries.md):
 *
 * - `GET /stores/:store/keys/:key`: a key-value store's value of one key.
 * - `GET /stores/:store/keys?from=&to=&limit=&after=`: a range over every instance, sorted by key, a page at a time.
 * - `GET /stores/:store/windows/:key?from=&to=&backward=`: a window store's windows of a key starting in [from, to].
 * - `GET /stores/:store/sessions/:key`: a session store's sessions of a key.
 * - `GET /query/metadata`: every instance and the partitions it holds.
 *
 * Any instance answers: a key held by another instance is forwarded to it (one hop, marked by a header so a moved key
 * cannot bounce), with the caller's Authorization header. Errors are `{ error: { code, message } }` with 404 for an
 * unknown store or key, 400 for a bad request, 503 while the group moves (retry), 502 when the owner does not answer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { KeyValue } from '../state/index.ts'
import { QueryError } from './errors.ts'
import { currentHostMap, metadataForAllStreamsClients, queryMetadataForKey } from './key-metadata.ts'
import { localKeyValueStore, localSessionStore, localWindowStore } from './local-stores.ts'
import { integerParam, type ParsedKey, parseKey, parseKeyFormat, toJson } from './query-json.ts'
import type { QuerySource } from './query-source.ts'

/** Marks a forwarded query: the instance that gets it answers from its own stores or says the key moved. */
export const FORWARDED_HEADER = 'x-streamlane-forwarded'
export const DEFAULT_PAGE = 100
export const MAX_PAGE = 1000

export interface QueryRoutesOptions {
  source: QuerySource
  stores: readonly string[]
  /** How peers are reached: `https` when this server has TLS (peers then share its configuration). */
  scheme: 'http' | 'https'
  forwardTimeoutMs?: number
}

type Params = { store: string; key?: string }
type Query = Record<string, string | undefined>
type QueryRequest = FastifyRequest<{ Params: Params; Querystring: Query }>

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(toJson(body))
}

function fail(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof QueryError)
    return send(reply, error.status, { error: { code: error.code, message: error.message } })
  const message = error instanceof Error ? error.message : String(error)
  return send(reply, 500, { error: { code: 'STREAMLANE_ILLEGAL_STATE', message } })
}

function keyOf(request: QueryRequest): ParsedKey {
  return parseKey(request.params.key ?? '', parseKeyFormat(request.query.keyFormat))
}

const isForwarded = (request: FastifyRequest) => request.headers[FORWARDED_HEADER] !== undefined

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
  const timeoutMs = options.forwardTimeoutMs ?? 10_000

  async function askPeer(
    host: string,
    request: FastifyRequest,
    path: string
  ): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { accept: 'application/json', [FORWARDED_HEADER]: '1' }
    if (request.headers.authorization) headers.authorization = request.headers.authorization
    try {
      const response = await fetch(`${options.scheme}://${host}${path}`, {
        headers,
        signal: AbortSignal.timeout(timeoutMs)
      })
      return { status: response.status, body: await response.text() }
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
   * does (a forwarded query that finds the key gone is a retriable 503, never a second hop).
   */
  async function byKey(request: QueryRequest, reply: FastifyReply, answer: (key: ParsedKey) => unknown) {
    try {
      const parsed = keyOf(request)
      const metadata = queryMetadataForKey(source, request.params.store, parsed.key, parsed.serde)
      if (metadata.activeHost !== source.localHost) {
        if (isForwarded(request)) {
          throw new QueryError(
            'STREAMLANE_QUERY_NOT_LOCAL',
            `store ${request.params.store}: partition ${metadata.partition} is held by ${metadata.activeHost} now; retry`
          )
        }
        const { status, body } = await askPeer(metadata.activeHost, request, request.url)
        return reply.code(status).type('application/json; charset=utf-8').send(body)
      }
      const result = answer(parsed)
      if (result === undefined) {
        return send(reply, 404, {
          error: {
            code: 'STREAMLANE_QUERY_KEY_NOT_FOUND',
            message: `store ${request.params.store} has no value for key ${request.params.key}`
          }
        })
      }
      return send(reply, 200, {
        store: request.params.store,
        partition: metadata.partition,
        host: source.localHost,
        ...result
      })
    } catch (error) {
      return fail(reply, error)
    }
  }

  server.get<{ Params: Params; Querystring: Query }>('/stores/:store/keys/:key', (request, reply) =>
    byKey(request, reply, ({ key, serde }) => {
      const value = localKeyValueStore(source, request.params.store, { keySerde: serde }).get(key)
      return value === null ? undefined : { key, value }
    })
  )

  server.get<{ Params: Params; Querystring: Query }>('/stores/:store/windows/:key', (request, reply) =>
    byKey(request, reply, ({ key, serde }) => {
      const from = integerParam('from', request.query.from, 0)
      const to = integerParam('to', request.query.to, Number.MAX_SAFE_INTEGER)
      const view = localWindowStore(source, request.params.store, { keySerde: serde })
      const iterator = request.query.backward === 'true' ? view.backwardFetch(key, from, to) : view.fetch(key, from, to)
      const windows = [...iterator].map(({ key: start, value }) => ({ start, value }))
      return { key, windows }
    })
  )

  server.get<{ Params: Params; Querystring: Query }>('/stores/:store/sessions/:key', (request, reply) =>
    byKey(request, reply, ({ key, serde }) => {
      const view = localSessionStore(source, request.params.store, { keySerde: serde })
      const sessions = [...view.fetch(key)].map(({ key: session, value }) => ({
        start: session.window.start,
        end: session.window.end,
        value
      }))
      return { key, sessions }
    })
  )

  /** This instance's entries of the range, sorted, after the cursor: `limit` and one more, to tell if a page follows. */
  function localRange(request: QueryRequest, limit: number): KeyValue<unknown, unknown>[] {
    const format = parseKeyFormat(request.query.keyFormat)
    const bound = (name: string) => {
      const text = request.query[name]
      return text === undefined ? null : parseKey(text, format).key
    }
    const after = bound('after')
    const view = localKeyValueStore<unknown, unknown>(source, request.params.store)
    const entries = [...view.range(bound('from'), bound('to'))]
      .filter(({ key }) => after === null || compareKeys(key, after) > 0)
      .sort((a, b) => compareKeys(a.key, b.key))
    return entries.slice(0, limit + 1)
  }

  server.get<{ Params: Params; Querystring: Query }>('/stores/:store/keys', async (request, reply) => {
    try {
      const limit = Math.min(integerParam('limit', request.query.limit, DEFAULT_PAGE), MAX_PAGE)
      if (limit < 1) throw new QueryError('STREAMLANE_QUERY_REQUEST_INVALID', `limit=${limit} must be at least 1`)
      if (isForwarded(request)) return send(reply, 200, { entries: localRange(request, limit) })
      const map = currentHostMap(source)
      const hosts = [...map.active.keys()]
      const pages = await Promise.all(
        hosts.map(async (host) => {
          if (host === source.localHost) return localRange(request, limit)
          const { status, body } = await askPeer(host, request, request.url)
          const parsed = JSON.parse(body) as {
            entries?: KeyValue<unknown, unknown>[]
            error?: { code: string; message: string }
          }
          if (status !== 200 || !parsed.entries) {
            throw new QueryError(
              status === 503 ? 'STREAMLANE_QUERY_UNAVAILABLE' : 'STREAMLANE_QUERY_FORWARD_FAILED',
              `instance ${host} answered ${status}: ${parsed.error?.message ?? body}`
            )
          }
          return parsed.entries
        })
      )
      const merged = pages.flat().sort((a, b) => compareKeys(a.key, b.key))
      const entries = merged.slice(0, limit)
      const next = merged.length > limit ? entries[entries.length - 1]!.key : null
      return send(reply, 200, { store: request.params.store, entries, next })
    } catch (error) {
      return fail(reply, error)
    }
  })

  server.get('/query/metadata', async (_request, reply) => {
    try {
      return send(reply, 200, { instances: metadataForAllStreamsClients(source, options.stores) })
    } catch (error) {
      return fail(reply, error)
    }
  })
}
