/**
 * What every benchmark run shares: a broker of its own (or KAFKA_BROKERS), an admin client, unique topic names,
 * progress lines on stderr, and `measure()`, which waits for a quiet machine, measures once and measures again once
 * when other work disturbed the measurement. The broker the benchmark starts is not shared with anybody's tests, so
 * its numbers are not disturbed by their traffic (only by their CPU, which is reported).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBroker } from '../../scripts/kafka/broker.ts'
import { createAdmin, type KafkaAdmin } from '../../src/kafka/admin.ts'
import { BUSY_OTHER_CORES, type CpuReading, waitForQuiet } from './cpu-meter.ts'
import { fixed } from './table.ts'

export interface BenchContext {
  bootstrap: string
  brokers: string[]
  /** Pid of the broker this run started; undefined with KAFKA_BROKERS (its CPU then counts as "other"). */
  brokerPid: number | undefined
  /** Where the broker came from, for the results file. */
  brokerDescription: string
  /** The log of the broker this run started (its group coordinator's lines); undefined with KAFKA_BROKERS. */
  brokerLogFile: string | undefined
  admin: KafkaAdmin
  /** A topic or group name no earlier run on the same broker used. */
  uniqueName(prefix: string): string
  log(message: string): void
  /**
   * Runs a measurement after waiting (briefly) for the machine to be quiet; runs it a second time, once, when other
   * work took more than BUSY_OTHER_CORES during it and the time budget allows, and keeps the less disturbed run.
   * `run` must be repeatable: fresh topics and groups per call.
   */
  measure<T extends { cpu: CpuReading }>(label: string, run: () => Promise<T>): Promise<Measured<T>>
  close(): Promise<void>
}

export interface Measured<T> {
  result: T
  attempts: number
  /** Other work used more than BUSY_OTHER_CORES during the kept run. */
  disturbed: boolean
}

export interface ContextOptions {
  /** The run's time budget: no retry or quiet wait starts after it. */
  budgetMs: number
  /** Longest wait for a quiet machine before each measurement. */
  quietWaitMs?: number
}

export async function createBenchContext(options: ContextOptions): Promise<BenchContext> {
  const deadline = Date.now() + options.budgetMs
  const quietWaitMs = options.quietWaitMs ?? 10_000
  const log = (message: string) => process.stderr.write(`bench: ${message}\n`)
  const external = process.env.KAFKA_BROKERS
  let bootstrap: string
  let brokerPid: number | undefined
  let brokerDescription: string
  let brokerLogFile: string | undefined
  let stopBroker = async () => {}
  if (external) {
    bootstrap = external
    brokerDescription = `existing cluster KAFKA_BROKERS=${external} (shared; its CPU counts as "other")`
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'streamlane-bench-broker-'))
    log(`starting a broker of our own in ${dir}`)
    const broker = await startBroker({ dir })
    bootstrap = broker.bootstrap
    brokerPid = broker.pid
    brokerLogFile = broker.logFile
    brokerDescription = `single-node KRaft broker started by the benchmark (pid ${broker.pid}, heap 768 MiB, data under ${tmpdir()})`
    stopBroker = async () => {
      await broker.stop()
      rmSync(dir, { recursive: true, force: true })
    }
    // Ctrl-C must not leave a broker behind.
    process.once('SIGINT', () => {
      void stopBroker().finally(() => process.exit(130))
    })
  }
  const brokers = bootstrap.split(',').map((b) => b.trim())
  const admin = createAdmin({ brokers })
  const suffix = `${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`
  let counter = 0

  const context: BenchContext = {
    bootstrap,
    brokers,
    brokerPid,
    brokerDescription,
    brokerLogFile,
    admin,
    uniqueName: (prefix) => `${prefix}-${suffix}-${counter++}`,
    log,
    async measure<T extends { cpu: CpuReading }>(label: string, run: () => Promise<T>): Promise<Measured<T>> {
      const attempts: { result: T; other: number }[] = []
      for (let attempt = 1; attempt <= 2; attempt++) {
        const quiet = await waitForQuiet(brokerPid, Math.max(0, Math.min(quietWaitMs, deadline - Date.now())))
        log(`${label}: measuring (attempt ${attempt}; other work before: ${fixed(quiet ?? Number.NaN)} cores)`)
        const result = await run()
        const other = result.cpu.otherCores ?? 0
        attempts.push({ result, other })
        log(
          `${label}: ${fixed(result.cpu.wallSeconds)} s wall, ${fixed(result.cpu.ownCpuSeconds)} s CPU here; ` +
            `other work ${fixed(other)} cores, load average ${fixed(result.cpu.loadAverage)}`
        )
        if (other <= BUSY_OTHER_CORES) break
        if (Date.now() >= deadline) {
          log(`${label}: disturbed, but the time budget is spent: keeping it`)
          break
        }
        if (attempt === 1) log(`${label}: disturbed by other work (> ${BUSY_OTHER_CORES} cores): measuring again once`)
      }
      const best = attempts.reduce((a, b) => (b.other < a.other ? b : a))
      return { result: best.result, attempts: attempts.length, disturbed: best.other > BUSY_OTHER_CORES }
    },
    async close() {
      await admin.close()
      await stopBroker()
    }
  }
  return context
}
