/**
 * Structured JSON logs (pino) on stderr, one line per event, so Kubernetes log pipelines can index them.
 * `STREAMLANE_LOG_LEVEL` (default info) filters them.
 */
import { type Logger, pino } from 'pino'

export type { Logger }

export function createLogger(
  bindings: Record<string, unknown> = {},
  level: string = process.env.STREAMLANE_LOG_LEVEL ?? 'info'
): Logger {
  return pino(
    { level, base: { pid: process.pid, ...bindings } },
    // Synchronous: the runtime logs events, not records, and an asynchronous write could be lost at process.exit or
    // land after the CLI's final error line.
    pino.destination({ fd: 2, sync: true })
  )
}
