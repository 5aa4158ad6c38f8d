import Fastify from 'fastify'
import { type BearerToken, guardRequests, tokenChecker } from '../../endpoint/index.ts'
import { DEFAULT_BODY_LIMIT, registerReportRoute } from '../metrics-api/report-route.ts'
import type { InstanceReportStore } from '../signals/report-store.ts'

export interface ReportEndpoint {
  /** Base URL handed to the workers (STREAMLANE_SCALER_URL). */
  url: string
  close(): Promise<void>
}

/**
 * The local scaler's HTTP side: workers POST their self-reports (true processing rate, rebalance in progress) to
 * /reports exactly as they would to `streamlane scaler`'s metrics-api, so one worker build runs under either; GET
 * /status shows the scaler's slots and its last decision. Listens on loopback by default: the workers are local.
 * Reports need the token the scaler made for this run (handed to its workers only) and must be for its group, so
 * another local user or process cannot steer the scaling.
 */
export async function startReportEndpoint(options: {
  reports: InstanceReportStore
  status: () => unknown
  host: string
  port: number
  groupId: string
  reportTokens: BearerToken[]
}): Promise<ReportEndpoint> {
  const app = Fastify({ logger: false, bodyLimit: DEFAULT_BODY_LIMIT })
  const check = tokenChecker(options.reportTokens)
  guardRequests(app, { rule: (request) => (request.routeOptions.url === '/reports' ? check : undefined) })
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/status', async () => options.status())
  registerReportRoute(app, { reports: options.reports, serves: (groupId) => groupId === options.groupId })
  await app.listen({ host: options.host, port: options.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return { url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`, close: () => app.close() }
}
