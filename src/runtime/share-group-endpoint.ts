/**
 * The HTTP endpoint of an app on a share group: /metrics (share-group metrics, process metrics) and the Kubernetes
 * probes (/healthz, /ready), on `metricsPort`, with the same host, TLS and token settings as any Streamlane app.
 * There is no /status page nor query endpoint: a share-group app holds no tasks or stores to show.
 */
import { type HttpServer, httpSecurity, type Logger, startHttpServer } from '../observe/index.ts'
import type { StreamsConfig } from './config.ts'

export interface ShareGroupEndpointOptions {
  config: StreamsConfig
  registry: Parameters<typeof startHttpServer>[0]['registry']
  health: () => { state: string; live: boolean; ready: boolean }
  logger: Logger
}

export async function startShareGroupEndpoint(options: ShareGroupEndpointOptions): Promise<HttpServer | undefined> {
  const { config } = options
  if (config.metricsPort === undefined) return undefined
  const server = await startHttpServer({
    registry: options.registry,
    health: options.health,
    ...httpSecurity(config),
    port: config.metricsPort,
    host: config.metricsHost
  })
  options.logger.info({ port: server.port }, 'metrics and health endpoint listening')
  return server
}
