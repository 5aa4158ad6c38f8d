/**
 * The scaler's `GET /status` (its decisions over time per ScaledObject, JSON for scripts) and `GET /status/page` (the
 * page that draws them, src/autoscale/metrics-api/status-page.ts). /status is guarded like /metrics; the page holds
 * no data and is open.
 */
import type { FastifyInstance } from 'fastify'
import { STATUS_PAGE_CSP } from '../../observe/index.ts'
import type { ObjectDecisions } from '../keda/decision-history.ts'
import type { ScalerService } from '../keda/scaler-service.ts'
import { SCALER_STATUS_PAGE_HTML } from './status-page.ts'

export interface ScalerStatus {
  /** Epoch milliseconds when this was built. */
  time: number
  /** Most recently evaluated first. */
  objects: ObjectDecisions[]
}

export function registerStatusRoutes(app: FastifyInstance, service: ScalerService): void {
  app.get('/status', async (_request, reply) =>
    reply
      .header('cache-control', 'no-store')
      .send({ time: Date.now(), objects: service.history.objects() } satisfies ScalerStatus)
  )
  app.get('/status/page', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', STATUS_PAGE_CSP)
      .send(SCALER_STATUS_PAGE_HTML)
  )
}
