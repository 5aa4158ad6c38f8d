/**
 * The HTTP endpoint a Streamlane pod exposes (config `metricsPort`): Prometheus metrics and the Kubernetes probes.
 * It listens on loopback unless `metricsHost` says otherwise (a pod sets 0.0.0.0 so the kubelet and Prometheus reach
 * it), over TLS when given a certificate, and with a bearer token on everything but the probes when given one
 * (docs/security.md).
 *
 * - `GET /metrics`: the app's registry in the Prometheus text format.
 * - `GET /healthz` (liveness): 200 while the app can still make progress; 503 once it is in ERROR or NOT_RUNNING, so
 *   the kubelet restarts a pod whose app stopped on an error.
 * - `GET /ready` (readiness): 200 only while the app says it is ready (RUNNING: joined and every assigned active task
 *   restored); 503 while starting, rebalancing, restoring or shutting down.
 * - `GET /status` (JSON) and `GET /status/page` (the live status page that shows it; static, so open like the probes,
 *   while /status needs the token as /metrics does).
 *
 * The app's state reaches this module through `AppHealth`, a shape observe owns, so observe never imports the runtime.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import {
  type BearerToken,
  guardRequests,
  httpsOptions,
  loadServerTls,
  parseTokens,
  type ReloadableTlsServer,
  readSecret,
  reloadTlsOnChange,
  type ServerTls,
  type ServerTlsFiles,
  type TlsReloadOutcome,
  tokenChecker
} from '../endpoint/index.ts'
import { StreamlaneError } from '../errors.ts'
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './status-page.ts'

/** What the probes read from the app at each request. */
export interface AppHealth {
  /** The lifecycle state's name, echoed in the answers (e.g. `RUNNING`, `REBALANCING`). */
  state: string
  /** Whether the process should be left running (liveness). */
  live: boolean
  /** Whether the instance counts as ready (readiness): every assigned task restored and processing. */
  ready: boolean
}

export interface HttpServerOptions {
  registry: Registry
  health: () => AppHealth
  /** 0 picks a free port (tests); `port` of the result is the bound one. */
  port: number
  host: string
  /** Required on every route but the probes (/healthz, /ready) when given. */
  tokens?: BearerToken[]
  tls?: ServerTls
  /** The files `tls` was read from: watched, and a renewed certificate is served without a restart. */
  tlsFiles?: ServerTlsFiles
  /** Each reload of the TLS files, or why the old certificate stays (for the log). */
  onTlsReload?: (outcome: TlsReloadOutcome) => void
  /** What `GET /status` answers; without it there is no /status nor /status/page. */
  status?: () => unknown
  /** More routes on the same server and behind the same token (the runtime adds the query endpoint). */
  routes?: (server: FastifyInstance) => void
  /**
   * Tokens of the `routes` only (the query endpoint's `queryToken`): given, those routes take these and no other,
   * while the server's own routes keep `tokens`; a token of one presented to the other is answered 403.
   */
  routeTokens?: BearerToken[]
}

/**
 * Routes open without a token: the kubelet probes (a probe cannot carry a Secret; they reveal only a state) and the
 * status page, which holds no data and asks for the token to read /status with.
 */
const PROBES = new Set(['/healthz', '/ready', '/status/page'])

export interface HttpServer {
  readonly port: number
  close(): Promise<void>
}

/** The longest path parameter taken (a query's key or store name, URL-encoded); longer ones are 414. */
export const MAX_PARAM_LENGTH = 8 * 1024

/** The routes, without listening (tests call `inject`). */
export function buildHttpServer(
  options: Pick<HttpServerOptions, 'registry' | 'health' | 'tokens' | 'tls' | 'routes' | 'status' | 'routeTokens'>
): FastifyInstance {
  // Fastify's request logging stays off: probes every few seconds would drown the app's own log. Nothing here takes a
  // body, so the limit is small.
  // A query's key is a path parameter: fastify's default of 100 characters would refuse ordinary long keys (414).
  const app = Fastify({
    logger: false,
    bodyLimit: 1024,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A URL the router refuses (malformed, a parameter too long) is answered in the endpoint's error shape too.
    frameworkErrors: (error, request, reply) => sendRequestError(error, request, reply),
    ...(options.tls ? { https: httpsOptions(options.tls) } : {})
  })
  const own = options.tokens?.length ? tokenChecker(options.tokens) : undefined
  const extra = options.routeTokens?.length ? tokenChecker(options.routeTokens) : undefined
  /** The URLs `routes` registers, which take `routeTokens` when given. */
  const extraUrls = new Set<string>()
  if (own || extra) {
    guardRequests(app, {
      rule: (request) => {
        const url = request.routeOptions.url ?? ''
        if (PROBES.has(url)) return undefined
        return extraUrls.has(url) ? (extra ?? own) : own
      },
      ...(own && extra ? { known: (presented: string | undefined) => own(presented) ?? extra(presented) } : {})
    })
  }
  app.get('/metrics', async (_request, reply) => {
    const text = await options.registry.metrics()
    return reply.type(options.registry.contentType).send(text)
  })
  app.get('/healthz', async (_request, reply) => {
    const { state, live } = options.health()
    return reply.code(live ? 200 : 503).send({ status: live ? 'ok' : 'down', state })
  })
  app.get('/ready', async (_request, reply) => {
    const { state, ready } = options.health()
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', state })
  })
  const status = options.status
  if (status) {
    app.get('/status', async (_request, reply) => reply.header('cache-control', 'no-store').send(status()))
    app.get('/status/page', async (_request, reply) =>
      reply.type('text/html; charset=utf-8').header('content-security-policy', STATUS_PAGE_CSP).send(STATUS_PAGE_HTML)
    )
  }
  if (options.routes) {
    app.addHook('onRoute', (route) => {
      extraUrls.add(route.url)
    })
    options.routes(app)
  }
  // Every answer of the endpoint has one error shape, fastify's own refusals included.
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: { code: 'STREAMLANE_ENDPOINT_ROUTE_UNKNOWN', message: `no route ${request.method} ${request.url}` }
    })
  )
  app.setErrorHandler(sendRequestError)
  return app
}

/** An error fastify raised for a request (too large, malformed), as `{ error: { code, message } }`. */
function sendRequestError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = (error as { statusCode?: number }).statusCode ?? 500
  const text = `${request.method} ${request.url}: ${error instanceof Error ? error.message : String(error)}`
  // The message may quote the URL: an 8 KiB key is not echoed back whole.
  const message = text.length > 500 ? `${text.slice(0, 500)}...` : text
  const code = status < 500 ? 'STREAMLANE_ENDPOINT_REQUEST_INVALID' : 'STREAMLANE_ILLEGAL_STATE'
  return reply.code(status).send({ error: { code, message } })
}

/** The endpoint's settings as the app's configuration names them (src/runtime/config.ts). */
export interface HttpSecuritySettings {
  metricsToken?: string | undefined
  metricsTokenFile?: string | undefined
  queryToken?: string | undefined
  queryTokenFile?: string | undefined
  metricsTlsCertFile?: string | undefined
  metricsTlsKeyFile?: string | undefined
}

const TLS_SETTINGS = {
  certFile: 'metricsTlsCertFile',
  keyFile: 'metricsTlsKeyFile',
  clientCaFile: 'metricsTlsClientCaFile'
}

/** Reads the token and TLS files the settings name; errors name the setting and the path, never a secret. */
export function httpSecurity(
  settings: HttpSecuritySettings
): Pick<HttpServerOptions, 'tokens' | 'tls' | 'tlsFiles' | 'routeTokens'> {
  const token = readSecret('metricsTokenFile', settings.metricsToken, settings.metricsTokenFile)
  const queryToken = readSecret('queryTokenFile', settings.queryToken, settings.queryTokenFile)
  const tlsFiles = { certFile: settings.metricsTlsCertFile, keyFile: settings.metricsTlsKeyFile }
  const tls = loadServerTls(tlsFiles, TLS_SETTINGS)
  return {
    ...(token ? { tokens: parseTokens(token) } : {}),
    ...(queryToken ? { routeTokens: parseTokens(queryToken) } : {}),
    ...(tls ? { tls, tlsFiles } : {})
  }
}

/** Starts listening; a port that is taken is an error naming `metricsPort`. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const app = buildHttpServer(options)
  try {
    await app.listen({ host: options.host, port: options.port })
  } catch (error) {
    await app.close().catch(() => undefined)
    throw new StreamlaneError(
      'STREAMLANE_METRICS_PORT_UNAVAILABLE',
      `metricsPort ${options.port} on ${options.host}: cannot listen (${error instanceof Error ? error.message : String(error)})`,
      { cause: error }
    )
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const reload =
    options.tls && options.tlsFiles
      ? reloadTlsOnChange(app.server as unknown as ReloadableTlsServer, options.tlsFiles, TLS_SETTINGS, {
          ...(options.onTlsReload ? { onReload: options.onTlsReload } : {})
        })
      : undefined
  return {
    port,
    close: () => {
      reload?.close()
      return app.close()
    }
  }
}
