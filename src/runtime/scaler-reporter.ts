/**
 * Tells the autoscaler what offsets cannot: this instance's true processing rate (records per second of busy time,
 * as DS2 defines it), how busy it is, and whether it is rebalancing or restoring. Posted as JSON to
 * `<scalerUrl>/reports`, the endpoint of `streamlane scaler` and of the local scaler. Best effort: a scaler that is
 * down costs a debug log line, never processing.
 */
import { readSecret } from '../endpoint/index.ts'
import type { Logger } from '../observe/index.ts'
import type { StreamsConfig } from './config.ts'

export interface InstanceStatus {
  /** Records processed since start. */
  processed: number
  /** Milliseconds spent processing since start (waiting for input excluded). */
  busyMs: number
  rebalanceInProgress: boolean
  restoringTasks: number
  memberId?: string
  /** Records being processed now and when the oldest started (epoch ms); absent when the runtime does not track it. */
  inFlight?: { records: number; oldestStartedAt: number }
  /** Warm-up copies this instance builds, each with how far it caught up (0..1). */
  warmups?: { task: string; progress: number }[]
  /** The app's numStandbyReplicas (how many instances hold a copy of each task besides its owner). */
  standbyReplicas?: number
}

export interface ScalerReporterOptions {
  scalerUrl: string
  groupId: string
  instanceId: string
  intervalMs: number
  /** Bearer token the scaler's `POST /reports` requires (its report token); never logged. */
  token?: string | undefined
  status: () => InstanceStatus
  logger: Logger
}

export class ScalerReporter {
  readonly #options: ScalerReporterOptions
  #timer: NodeJS.Timeout | undefined
  #last: { processed: number; busyMs: number; at: number } | undefined

  constructor(options: ScalerReporterOptions) {
    this.#options = options
  }

  start(): void {
    this.#last = { ...this.#sample(), at: Date.now() }
    this.#timer = setInterval(() => void this.report(), this.#options.intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  #sample(): { processed: number; busyMs: number } {
    const { processed, busyMs } = this.#options.status()
    return { processed, busyMs }
  }

  /** The report for the interval since the previous one. */
  nextReport(now = Date.now()): Record<string, unknown> {
    const status = this.#options.status()
    const last = this.#last ?? { processed: 0, busyMs: 0, at: now }
    const busyMs = status.busyMs - last.busyMs
    const processed = status.processed - last.processed
    this.#last = { processed: status.processed, busyMs: status.busyMs, at: now }
    const wallMs = Math.max(now - last.at, 1)
    return {
      groupId: this.#options.groupId,
      instanceId: this.#options.instanceId,
      memberId: status.memberId,
      // Without busy time there is no measurement, which is not the same as a rate of zero.
      ...(busyMs > 0 ? { trueProcessingRate: (processed * 1000) / busyMs } : {}),
      busyRatio: Math.min(1, busyMs / wallMs),
      // A record slower than the interval shows no rate until it finishes; its age bounds the rate before that.
      ...(status.inFlight && status.inFlight.records > 0
        ? {
            inFlightRecords: status.inFlight.records,
            oldestInFlightMs: Math.max(0, now - status.inFlight.oldestStartedAt)
          }
        : {}),
      rebalanceInProgress: status.rebalanceInProgress,
      restoringTasks: status.restoringTasks,
      ...(status.warmups && status.warmups.length > 0 ? { warmups: status.warmups } : {}),
      ...(status.standbyReplicas !== undefined ? { standbyReplicas: status.standbyReplicas } : {}),
      at: now
    }
  }

  async report(): Promise<void> {
    const body = JSON.stringify(this.nextReport())
    try {
      const response = await fetch(new URL('/reports', this.#options.scalerUrl), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.#options.token ? { authorization: `Bearer ${this.#options.token}` } : {})
        },
        body,
        signal: AbortSignal.timeout(Math.min(this.#options.intervalMs, 5_000))
      })
      if (!response.ok)
        this.#options.logger.warn({ status: response.status, body: await response.text() }, 'scaler refused the report')
    } catch (error) {
      this.#options.logger.debug({ err: error, scalerUrl: this.#options.scalerUrl }, 'could not report to the scaler')
    }
  }
}

/** Starts reporting to the app's `scalerUrl` with its report token; none when no scaler is configured. */
export function startScalerReporter(
  config: StreamsConfig,
  reporter: Pick<ScalerReporterOptions, 'instanceId' | 'status' | 'logger'>
): ScalerReporter | undefined {
  if (!config.scalerUrl) return undefined
  const started = new ScalerReporter({
    scalerUrl: config.scalerUrl,
    token: readSecret('scalerReportTokenFile', config.scalerReportToken, config.scalerReportTokenFile),
    groupId: config.applicationId,
    intervalMs: config.scalerReportIntervalMs,
    ...reporter
  })
  started.start()
  return started
}
