/** The subset of a pino logger the state layer uses, so any structured logger fits (and tests can record). */
export interface StateLogger {
  warn(fields: Record<string, unknown>, message: string): void
  info(fields: Record<string, unknown>, message: string): void
}

/** One JSON line per message on stderr in the app logger's shape (pino's: numeric level, time, pid), when none is injected. */
export const stderrStateLogger: StateLogger = {
  warn(fields, message) {
    process.stderr.write(
      `${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, ...fields, msg: message })}\n`
    )
  },
  info(fields, message) {
    process.stderr.write(
      `${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, ...fields, msg: message })}\n`
    )
  }
}
