/**
 * The app's HTTP endpoint: /metrics, the probes, /status and the status page, and the interactive-query routes when the instance
 * publishes `applicationServer`. It listens on `metricsPort`, or on the port of `applicationServer` when only that
 * is set; without either there is none.
 */
import { logTlsReload, readPemFile, watchFiles } from '../endpoint/index.ts'
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
  const { logger } = options
  const security = httpSecurity(config)
  const scheme = security.tls ? 'https' : 'http'
  const peerCa = config.applicationServer ? peerCaFile(config, security.tls !== undefined, logger) : undefined
  const server = await startHttpServer({
    registry: options.registry,
    health: () => ({ state: lifecycle.state, live: lifecycle.live, ready: lifecycle.ready }),
    ...security,
    onTlsReload: logTlsReload(logger, 'endpoint'),
    // GET /status and the status page that shows it (GET /status/page).
    status: () => ({ ...taskStatus(options.status), ...options.report() }),
    routes: (routes) => {
      // The query endpoint is on only when the instance publishes where peers reach it.
      if (config.applicationServer)
        registerQueryRoutes(routes, {
          source: options.query,
          stores: options.stores,
          scheme,
          peerCa: peerCa?.current,
          maxConcurrent: config.queryMaxConcurrent,
          maxRate: config.queryMaxRate,
          onAnswer: queryRequestMetrics(options.registry)
        })
    },
    port,
    host: config.metricsHost
  })
  logger.info({ port: server.port }, 'metrics and health endpoint listening')
  if (!peerCa) return server
  return {
    port: server.port,
    close: () => {
      peerCa.close()
      return server.close()
    }
  }
}

/**
 * `queryPeerCaFile`: the CA the instances' endpoint certificates are signed by, trusted when forwarding a query (read
 * again when the file changes). Only over TLS: without it peers are asked over plain HTTP.
 */
function peerCaFile(config: StreamsConfig, tls: boolean, logger: Logger) {
  const file = config.queryPeerCaFile
  if (file === undefined) return undefined
  if (!tls)
    throw new ConfigError(
      'queryPeerCaFile',
      'needs metricsTlsCertFile and metricsTlsKeyFile: peers are asked over HTTPS only when this endpoint has TLS'
    )
  let ca = readPemFile('queryPeerCaFile', file)
  const watch = watchFiles([file], () => {
    try {
      ca = readPemFile('queryPeerCaFile', file)
      logger.info({ file }, 'queryPeerCaFile changed: forwarded queries trust the new CA')
    } catch (error) {
      logger.warn(
        { reason: error instanceof Error ? error.message : String(error) },
        'queryPeerCaFile changed but does not load: kept the old CA'
      )
    }
  })
  return { current: () => ca, close: () => watch.close() }
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
