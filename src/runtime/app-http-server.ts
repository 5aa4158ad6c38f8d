/**
 * The app's HTTP endpoint: /metrics, the probes, /status and the status page, and the interactive-query routes when the instance
 * publishes `applicationServer`. It listens on `metricsPort`, or on the port of `applicationServer` when only that
 * is set; without either there is none.
 */
import { ConfigError } from '../errors.ts'
import { type HttpServer, httpSecurity, type Logger, queryRequestMetrics, startHttpServer } from '../observe/index.ts'
import { type QuerySource, registerQueryRoutes } from '../query/index.ts'
import type { AppLifecycle } from './app-state.ts'
import type { StreamsConfig } from './config.ts'
import { type TaskStatusSource, taskStatus } from './task-status.ts'

export interface AppHttpServerOptions {
  config: StreamsConfig
  registry: Parameters<typeof startHttpServer>[0]['registry']
  lifecycle: Pick<AppLifecycle, 'state' | 'live' | 'ready'>
  stores: string[]
  query: QuerySource
  status: TaskStatusSource
  /** What the status page shows (StreamlaneApp.status()), answered by /status next to the task placement. */
  report: () => object
  logger: Logger
}

export async function startAppHttpServer(options: AppHttpServerOptions): Promise<HttpServer | undefined> {
  const { config, lifecycle } = options
  const port = config.metricsPort ?? applicationServerPort(config.applicationServer)
  if (port === undefined) return undefined
  const security = httpSecurity(config)
  const scheme = security.tls ? 'https' : 'http'
  const server = await startHttpServer({
    registry: options.registry,
    health: () => ({ state: lifecycle.state, live: lifecycle.live, ready: lifecycle.ready }),
    ...security,
    // GET /status and the status page that shows it (GET /status/page).
    status: () => ({ ...taskStatus(options.status), ...options.report() }),
    routes: (routes) => {
      // The query endpoint is on only when the instance publishes where peers reach it.
      if (config.applicationServer)
        registerQueryRoutes(routes, {
          source: options.query,
          stores: options.stores,
          scheme,
          maxConcurrent: config.queryMaxConcurrent,
          onAnswer: queryRequestMetrics(options.registry)
        })
    },
    port,
    host: config.metricsHost
  })
  options.logger.info({ port: server.port }, 'metrics and health endpoint listening')
  return server
}

/** The port of `host:port` (the HTTP server listens there when `metricsPort` is not set). */
function applicationServerPort(applicationServer: string | undefined): number | undefined {
  if (applicationServer === undefined) return undefined
  const port = Number(applicationServer.slice(applicationServer.lastIndexOf(':') + 1))
  if (!applicationServer.includes(':') || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new ConfigError('applicationServer', `${applicationServer} is not host:port`)
  }
  return port
}
