import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { type BearerToken, guardRequests, httpsOptions, type ServerTls, tokenChecker } from '../../endpoint/index.ts'
import type { ScalerMetrics } from '../keda/scaler-metrics.ts'
import type { Evaluation, ScalerLogger, ScalerService } from '../keda/scaler-service.ts'
import { ScalerInputError, ScalerNotAllowedError } from '../signals/errors.ts'
import type { InstanceReportStore } from '../signals/report-store.ts'
import type { TaskCount } from '../signals/types.ts'
import { DEFAULT_BODY_LIMIT, httpStatusOf, registerReportRoute, sendSignalError } from './report-route.ts'
import { registerStatusRoutes } from './status-routes.ts'

export { httpStatusOf }

export interface MetricsApiOptions {
  service: ScalerService
  reports: InstanceReportStore
  host?: string
  /** 0 picks a free port (tests). */
  port: number
  logger?: ScalerLogger
  /** Required on GET /metrics, /metrics/:group and /status when given (KEDA's metrics-api trigger, Prometheus). */
  readTokens?: BearerToken[]
  /** Required on POST /reports; without any, reports are refused (a report steers scaling). */
  reportTokens?: BearerToken[]
  tls?: ServerTls
  /** Largest request body read; larger ones get 413 before they are buffered. */
  bodyLimit?: number
  metrics?: ScalerMetrics
}

export interface MetricsApiServer {
  port: number
  app: FastifyInstance
  close(): Promise<void>
}

/** The JSON body of GET /metrics/:group; KEDA's metrics-api trigger reads `value` (valueLocation: value). */
export interface MetricsResponse {
  value: number
  targetSize: number
  replicas: number
  active: boolean
  reason: string
  metricName: string
  group: string
  currentReplicas: number
  lag: number
  arrivalRate: number | null
  commitRate: number | null
  noCommittedOffsets: boolean
  state: string
  at: string
  partitions: {
    topic: string
    partition: number
    logStartOffset: number
    endOffset: number
    committedOffset: number | null
    lag: number
    lagBasis: string
  }[]
  members: { memberId: string; clientId: string; host: string; partitions: number }[]
  /** The cap on useful replicas: a Streamlane app's active tasks, else the measured partitions (and which one). */
  tasks: TaskCount
  instances: Evaluation['signals']['instances']
}

/**
 * HTTP face of the scaler: the same decision as the gRPC ExternalScaler for KEDA's `metrics-api` trigger, a health
 * probe, and the endpoint Streamlane instances post their self-reports to. Errors are JSON with the Streamlane code
 * and a 4xx/5xx status, so KEDA's metrics-api scaler fails the poll (and its fallback applies) instead of reading 0.
 */
export async function startMetricsApi(options: MetricsApiOptions): Promise<MetricsApiServer> {
  const { service, reports, metrics } = options
  // Fastify's own request logging stays off: the scaler logs decisions and failures itself, once each.
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...(options.tls ? { https: httpsOptions(options.tls) } : {})
  })
  const readCheck = options.readTokens?.length ? tokenChecker(options.readTokens) : undefined
  const reportCheck = tokenChecker(options.reportTokens ?? [])
  guardRequests(app, {
    // By the route matched, not the raw URL: `/%72eports` or a query string must not pick another rule.
    rule: (request) => {
      const path = request.routeOptions.url
      if (path === '/healthz' || path === '/status/page') return undefined
      if (path === '/reports') return reportCheck
      return readCheck
    },
    onRefused: (reason) => metrics?.refused('http', reason)
  })

  app.get('/healthz', async () => ({ status: 'ok', scaledObjects: service.objects }))

  app.get('/metrics', async (_request, reply) => {
    if (!metrics) return reply.code(404).send()
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  })

  app.get<{ Params: { group: string }; Querystring: Record<string, unknown> }>(
    '/metrics/:group',
    async (request, reply) => {
      try {
        const query = stringQuery(request.query)
        const { name, namespace, ...metadata } = query
        const group = request.params.group
        const evaluation = await service.evaluate({
          namespace: namespace ?? 'metrics-api',
          name: name ?? group,
          metadata: { ...metadata, consumerGroup: group },
          source: 'query'
        })
        return toResponse(evaluation, group)
      } catch (error) {
        if (error instanceof ScalerNotAllowedError) metrics?.refused('http', 'not-allowed')
        return sendError(reply, error, options.logger, request.url)
      }
    }
  )

  registerStatusRoutes(app, service)

  registerReportRoute(app, {
    reports,
    serves: (groupId) => service.serves(groupId),
    onRefused: (reason) => metrics?.refused('http', reason)
  })

  // Unknown routes and unparsable bodies get the same JSON error shape as everything else.
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: { code: 'STREAMLANE_SCALER_ROUTE_UNKNOWN', message: `no route ${request.method} ${request.url}` }
    })
  )
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500
    if (status === 413) metrics?.refused('http', 'body-too-large')
    const message = error instanceof Error ? error.message : String(error)
    return reply
      .code(status)
      .send({ error: { code: 'STREAMLANE_SCALER_HTTP', message: `${request.method} ${request.url}: ${message}` } })
  })

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  return { port, app, close: () => app.close() }
}

function toResponse(e: Evaluation, group: string): MetricsResponse {
  const { snapshot, rates, instances } = e.signals
  return {
    value: e.metricValue,
    targetSize: e.targetSize,
    replicas: e.replicas,
    active: e.active,
    reason: e.reason,
    metricName: e.metricName,
    group,
    currentReplicas: e.currentReplicas,
    lag: snapshot.totalLag,
    arrivalRate: rates.arrivalRate,
    commitRate: rates.commitRate,
    noCommittedOffsets: snapshot.noCommittedOffsets,
    state: snapshot.state,
    at: new Date(e.at).toISOString(),
    partitions: snapshot.partitions,
    members: snapshot.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      host: m.host,
      partitions: m.assignment.reduce((n, a) => n + a.partitions.length, 0)
    })),
    tasks: snapshot.tasks,
    instances
  }
}

/** Query parameters as single strings; a repeated key is ambiguous and rejected rather than guessed. */
function stringQuery(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(query)) {
    if (typeof value !== 'string') throw new ScalerInputError(`query.${key}`, 'must be given once')
    out[key] = value
  }
  return out
}

function sendError(reply: FastifyReply, error: unknown, logger: ScalerLogger | undefined, url: string) {
  const status = httpStatusOf(error)
  if (status >= 500) {
    logger?.warn(
      { url, code: (error as { code?: string }).code, err: error instanceof Error ? error.message : String(error) },
      'metrics-api request failed'
    )
  }
  return sendSignalError(reply, error)
}
