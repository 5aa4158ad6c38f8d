import Fastify from 'fastify'
import { StreamlaneError } from '../../errors.ts'
import { httpStatusOf } from '../metrics-api/server.ts'
import { parseInstanceReport } from '../signals/instance-report.ts'
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
 */
export async function startReportEndpoint(options: {
  reports: InstanceReportStore
  status: () => unknown
  host: string
  port: number
}): Promise<ReportEndpoint> {
  const app = Fastify({ logger: false })
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/status', async () => options.status())
  app.post('/reports', async (request, reply) => {
    try {
      options.reports.put(parseInstanceReport(request.body, Date.now()))
      return reply.code(204).send()
    } catch (error) {
      const code = error instanceof StreamlaneError ? error.code : 'STREAMLANE_LOCAL_REPORT'
      const message = error instanceof Error ? error.message : String(error)
      return reply.code(httpStatusOf(error)).send({ error: { code, message } })
    }
  })
  await app.listen({ host: options.host, port: options.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return { url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`, close: () => app.close() }
}
