import type { FastifyInstance, FastifyReply } from 'fastify'
import { grantOf } from '../../endpoint/index.ts'
import { StreamlaneError } from '../../errors.ts'
import { ScalerNotAllowedError, SignalError } from '../signals/errors.ts'
import { parseInstanceReport } from '../signals/instance-report.ts'
import type { InstanceReportStore } from '../signals/report-store.ts'

/** Largest request body the scaler's HTTP ports read: a self-report is a few hundred bytes. */
export const DEFAULT_BODY_LIMIT = 16 * 1024

export interface ReportRouteOptions {
  reports: InstanceReportStore
  /** Whether reports for this group are taken at all (the groups the scaler serves). */
  serves: (groupId: string) => boolean
  onRefused?: (reason: 'group-not-served' | 'not-allowed' | 'invalid') => void
}

/**
 * `POST /reports`, shared by `streamlane scaler` and the local autoscaler. The bearer token was checked before the
 * body was read (request-guard); here a report must also name a group the scaler serves and, when the token is bound
 * to groups, one of those. Every refusal happens before the report is stored.
 */
export function registerReportRoute(app: FastifyInstance, options: ReportRouteOptions): void {
  app.post('/reports', async (request, reply) => {
    try {
      const report = parseInstanceReport(request.body, Date.now())
      const allowed = grantOf(request)?.groups
      if (allowed && !allowed.has(report.groupId)) {
        options.onRefused?.('not-allowed')
        throw new ScalerNotAllowedError('report.groupId', `this token may not report for group "${report.groupId}"`)
      }
      if (!options.serves(report.groupId)) {
        options.onRefused?.('group-not-served')
        throw new ScalerNotAllowedError(
          'report.groupId',
          `group "${report.groupId}" is not one this scaler serves (on its --groups list, or asked about by a ScaledObject)`
        )
      }
      options.reports.put(report)
      return reply.code(204).send()
    } catch (error) {
      if (error instanceof SignalError && error.kind === 'invalid') options.onRefused?.('invalid')
      return sendSignalError(reply, error)
    }
  })
}

/** Maps a scaler error to its HTTP status: 400 invalid, 403 not allowed, 404 not found, 503 brokers, else 500. */
export function httpStatusOf(error: unknown): number {
  if (error instanceof SignalError) {
    const byKind = { invalid: 400, forbidden: 403, 'not-found': 404, unavailable: 503 } as const
    return byKind[error.kind]
  }
  return 500
}

/** The JSON error every scaler route answers with: the Streamlane code, the message, the field when one is at fault. */
export function sendSignalError(reply: FastifyReply, error: unknown) {
  const status = httpStatusOf(error)
  const code = error instanceof StreamlaneError ? error.code : 'STREAMLANE_SCALER_INTERNAL'
  const message = error instanceof Error ? error.message : String(error)
  const field =
    error instanceof SignalError && 'field' in error && typeof error.field === 'string' ? { field: error.field } : {}
  return reply.code(status).send({ error: { code, message, ...field } })
}
