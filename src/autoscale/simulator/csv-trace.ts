import { TraceFormatError } from './errors.ts'
import type { LoadTrace } from './traces.ts'

/** Longest trace accepted: a simulated day at one-second ticks. */
const MAX_SECONDS = 86_400

/**
 * Parses a user load trace: lines of `second,records_per_second`, seconds increasing from any start; a rate holds
 * until the next line and the trace ends one second after the last. An optional header line, blank lines and
 * `#` comments are skipped. Pure: the caller reads the file; `source` only names it in errors.
 */
export function parseCsvTrace(text: string, source: string): LoadTrace {
  const points: { second: number; rate: number }[] = []
  const lines = text.split(/\r?\n/)
  lines.forEach((raw, index) => {
    const lineNumber = index + 1
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const cells = line.split(',').map((c) => c.trim())
    if (points.length === 0 && cells.some((c) => c !== '' && Number.isNaN(Number(c)))) return // header
    if (cells.length !== 2)
      throw new TraceFormatError(source, lineNumber, `expected "second,records_per_second", got "${line}"`)
    const second = Number(cells[0])
    const rate = Number(cells[1])
    if (!Number.isInteger(second) || second < 0) {
      throw new TraceFormatError(source, lineNumber, `second "${cells[0]}" is not a whole number >= 0`)
    }
    if (!Number.isFinite(rate) || rate < 0) {
      throw new TraceFormatError(source, lineNumber, `records_per_second "${cells[1]}" is not a number >= 0`)
    }
    const previous = points[points.length - 1]
    if (previous && second <= previous.second) {
      throw new TraceFormatError(source, lineNumber, `second ${second} does not come after ${previous.second}`)
    }
    if (second >= MAX_SECONDS) throw new TraceFormatError(source, lineNumber, `second ${second} is past ${MAX_SECONDS}`)
    points.push({ second, rate })
  })
  if (points.length === 0) throw new TraceFormatError(source, lines.length, 'no data lines')
  const duration = points[points.length - 1]!.second + 1
  const rates = new Array<number>(duration).fill(0)
  let next = 0
  let current = 0
  for (let t = 0; t < duration; t++) {
    while (next < points.length && points[next]!.second <= t) current = points[next++]!.rate
    rates[t] = current
  }
  const name = source.replace(/^.*[\\/]/, '').replace(/\.csv$/i, '')
  return { name, description: `user trace ${source} (${points.length} points, ${duration} s)`, rates }
}
