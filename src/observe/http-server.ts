/**
 * The HTTP endpoint a Streamlane pod exposes (config `metricsPort`): Prometheus metrics and the Kubernetes probes.
 *
 * - `GET /metrics`: the app's registry in the Prometheus text format.
 * - `GET /healthz` (liveness): 200 while the app can still make progress; 503 once it is in ERROR or NOT_RUNNING, so
 *   the kubelet restarts a pod whose app stopped on an error.
 * - `GET /ready` (readiness): 200 only in RUNNING, i.e. joined and every assigned task restored; 503 while starting,
 *   rebalancing, restoring or shutting down.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { StreamlaneError } from '../errors.ts'
import type { AppState } from '../runtime/app-state.ts'

export interface HttpServerOptions {
  registry: Registry
  state: () => AppState
  /** 0 picks a free port (tests); `port` of the result is the bound one. */
  port: number
  host: string
}

export interface HttpServer {
  readonly port: number
  close(): Promise<void>
}

/** Whether the process should be left running: everything but a stopped or failed app. */
export function isLive(state: AppState): boolean {
  return state !== 'ERROR' && state !== 'NOT_RUNNING'
}

/** Whether the instance should count as ready (a Kubernetes readiness probe): running, restoration done. */
export function isReady(state: AppState): boolean {
  return state === 'RUNNING'
}

/** The routes, without listening (tests call `inject`). */
export function buildHttpServer(options: Pick<HttpServerOptions, 'registry' | 'state'>): FastifyInstance {
  // Fastify's request logging stays off: probes every few seconds would drown the app's own log.
  const app = Fastify({ logger: false })
  app.get('/metrics', async (_request, reply) => {
    const text = await options.registry.metrics()
    return reply.type(options.registry.contentType).send(text)
  })
  app.get('/healthz', async (_request, reply) => {
    const state = options.state()
    return reply.code(isLive(state) ? 200 : 503).send({ status: isLive(state) ? 'ok' : 'down', state })
  })
  app.get('/ready', async (_request, reply) => {
    const state = options.state()
    return reply.code(isReady(state) ? 200 : 503).send({ status: isReady(state) ? 'ready' : 'not ready', state })
  })
  return app
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
  return { port, close: () => app.close() }
}
