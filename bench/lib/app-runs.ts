/**
 * Running StreamlaneApp instances and raw partition readers inside a benchmark: a state directory of their own, the
 * app's log captured (not printed) so the benchmark can time the events it reports, waiting on an app's progress,
 * and reading a whole topic with the bare partition reader (the reference an app's reading is compared with).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { type Logger, pino } from 'pino'
import {
  createPartitionReader,
  OFFSET_EARLIEST,
  type PartitionReaderOptions
} from '../../src/kafka/partition-reader.ts'
import type { ConsumedRecord } from '../../src/kafka/types.ts'
import type { StreamlaneApp } from '../../src/runtime/streamlane-app.ts'
import type { BenchContext } from './bench-context.ts'
import { type CpuReading, startCpuMeter } from './cpu-meter.ts'

/** A fresh, empty state directory; `removeStateDirs()` deletes every one made. */
const stateDirs: string[] = []
export function freshStateDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `streamlane-bench-${prefix}-`))
  stateDirs.push(dir)
  return dir
}

export function removeStateDirs(): void {
  for (const dir of stateDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** One line of the app's JSON log. `time` is pino's (Date.now() when logged). */
export interface LogEvent {
  msg: string
  time: number
  [field: string]: unknown
}

/**
 * A logger that keeps every event at `level` and above in `events` (for the benchmark to read) and prints only
 * warnings and errors, so a run's output stays the benchmark's own.
 */
export function capturingLogger(bench: string, level = 'info'): { logger: Logger; events: LogEvent[] } {
  const events: LogEvent[] = []
  const stream = {
    write(line: string) {
      const event = JSON.parse(line) as LogEvent & { level: number }
      events.push(event)
      if (event.level >= 40) process.stderr.write(line)
    }
  }
  const logger = pino({ level, base: { bench } }, stream)
  return { logger, events }
}

/** Resolves once `done()` holds, checking every 10 ms; fails when the app stops on an error or at the timeout. */
export async function waitForApp(
  app: StreamlaneApp,
  what: string,
  done: () => boolean,
  timeoutMs = 300_000
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (app.state === 'ERROR') throw app.error ?? new Error(`the app stopped on an error while waiting for ${what}`)
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(app.progress())}`)
    }
    await delay(10)
  }
}

/** End offsets of every partition of `topic`. */
export async function endOffsets(ctx: BenchContext, topic: string): Promise<Map<number, bigint>> {
  const offsets = await ctx.admin.listOffsets([{ topic }], 'latest')
  return offsets.get(topic) ?? new Map()
}

export interface ReadRun {
  label: string
  records: number
  /** Key plus value bytes of every record (what restoration counts as its bytes). */
  bytes: number
  /** From creating the reader until every partition's position reached its end offset. */
  cpu: CpuReading
}

/**
 * Reads every partition of `topic` from the start to its current end with one partition reader (read_uncommitted,
 * as the runtime reads under at-least-once), optionally handing each batch to `onBatch`.
 */
export async function readToEnd(
  ctx: BenchContext,
  topic: string,
  label: string,
  options: Partial<PartitionReaderOptions> = {},
  onBatch?: (batch: ConsumedRecord[]) => void
): Promise<ReadRun> {
  const ends = await endOffsets(ctx, topic)
  const meter = startCpuMeter(ctx.brokerPid)
  const reader = createPartitionReader({
    brokers: ctx.brokers,
    clientId: 'bench-raw-reader',
    isolation: 'read_uncommitted',
    ...options
  })
  try {
    await reader.assign([...ends.keys()].map((partition) => ({ topic, partition, offset: OFFSET_EARLIEST })))
    const atEnd = () => [...ends].every(([partition, end]) => (reader.position(topic, partition) ?? -1n) >= end)
    let records = 0
    let bytes = 0
    const deadline = Date.now() + 120_000
    while (!atEnd()) {
      const batch = await reader.poll(100)
      for (const r of batch) bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
      records += batch.length
      onBatch?.(batch)
      if (Date.now() > deadline) throw new Error(`${label}: read ${records} records of ${topic} in 120 s, not the end`)
    }
    return { label, records, bytes, cpu: meter.stop() }
  } finally {
    await reader.close()
  }
}

/** "0.41 (retried)": other cores during a measurement, marked when it was retried or stayed disturbed. */
export function otherCell(run: { result: { cpu: CpuReading }; disturbed: boolean; attempts: number }): string {
  const other = run.result.cpu.otherCores
  const value = other === undefined ? 'n/a' : other.toFixed(2)
  return `${value}${run.disturbed ? ' (busy)' : ''}${run.attempts > 1 ? ' (retried)' : ''}`
}
