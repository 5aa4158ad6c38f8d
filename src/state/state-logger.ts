/** The subset of a pino logger the state layer uses, so any structured logger fits (and tests can record). */
export interface StateLogger {
  warn(fields: Record<string, unknown>, message: string): void
  info(fields: Record<string, unknown>, message: string): void
}

/** One JSON line per message on stderr, the project's log format, when no logger is injected. */
export const stderrStateLogger: StateLogger = {
  warn(fields, message) {
    process.stderr.write(`${JSON.stringify({ level: 'warn', time: Date.now(), msg: message, ...fields })}\n`)
  },
  info(fields, message) {
    process.stderr.write(`${JSON.stringify({ level: 'info', time: Date.now(), msg: message, ...fields })}\n`)
  }
}
