/**
 * Where CPU went during a measurement: this process (`process.cpuUsage`, all its threads), the benchmark's own
 * broker (its /proc stat), a Kafka tool run as a child (reported by the caller) and everything else on the machine
 * ("other", from /proc/stat). The machine is shared with other engineers' test runs; "other" says how much they took
 * while a number was measured, so a disturbed number can be retried and every number carries its context.
 */
import { readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'

/** Linux reports /proc times in clock ticks of 1/100 s (USER_HZ) on every architecture Node runs on. */
const TICKS_PER_SECOND = 100

/** Busy CPU seconds of the whole machine (all cores), or undefined off Linux. */
function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!
    // cpu user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number)
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

/** CPU seconds (user + system) a process has used so far, or undefined when it is gone or not on Linux. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name start at field 3 (state); utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

export interface CpuReading {
  wallSeconds: number
  /** This Node process, every thread (event loop, libuv pool, GC). */
  ownCpuSeconds: number
  /** The broker the benchmark started; undefined when it uses KAFKA_BROKERS. */
  brokerCpuSeconds: number | undefined
  /** Average cores busy with anything else (other people's tests; the broker too when it is not ours). */
  otherCores: number | undefined
  /** 1-minute load average when the measurement ended. */
  loadAverage: number
}

export interface CpuMeter {
  /** `childCpuSeconds`: CPU of child processes the measurement ran (a Kafka tool), so it is not counted as other. */
  stop(childCpuSeconds?: number): CpuReading
}

export function startCpuMeter(brokerPid?: number): CpuMeter {
  const started = performance.now()
  const own = ownCpuSeconds()
  const broker = brokerPid === undefined ? undefined : processCpuSeconds(brokerPid)
  const machine = machineBusySeconds()
  return {
    stop(childCpuSeconds = 0) {
      const wallSeconds = (performance.now() - started) / 1000
      const ownUsed = ownCpuSeconds() - own
      const brokerNow = brokerPid === undefined ? undefined : processCpuSeconds(brokerPid)
      const brokerUsed = broker !== undefined && brokerNow !== undefined ? brokerNow - broker : undefined
      const machineNow = machineBusySeconds()
      const otherCores =
        machine !== undefined && machineNow !== undefined && wallSeconds > 0
          ? Math.max(0, machineNow - machine - ownUsed - (brokerUsed ?? 0) - childCpuSeconds) / wallSeconds
          : undefined
      return {
        wallSeconds,
        ownCpuSeconds: ownUsed,
        brokerCpuSeconds: brokerUsed,
        otherCores,
        loadAverage: loadavg()[0]!
      }
    }
  }
}

/** Cores busy with other work over the next `sampleMs` (this process and our broker excluded). */
export async function otherLoad(brokerPid?: number, sampleMs = 1_000): Promise<number | undefined> {
  const meter = startCpuMeter(brokerPid)
  await delay(sampleMs)
  return meter.stop().otherCores
}

/** Above this many cores of other work, a measurement counts as disturbed (a quarter of the machine, at least 0.5). */
export const BUSY_OTHER_CORES = Math.max(0.5, availableParallelism() / 4)

/**
 * Waits (up to `maxWaitMs`) until other work on the machine stays below BUSY_OTHER_CORES for a one-second sample.
 * Returns the last sample; a machine that never quietens is measured anyway, and the numbers say so.
 */
export async function waitForQuiet(brokerPid: number | undefined, maxWaitMs: number): Promise<number | undefined> {
  const deadline = Date.now() + maxWaitMs
  for (;;) {
    const other = await otherLoad(brokerPid)
    if (other === undefined || other < BUSY_OTHER_CORES || Date.now() >= deadline) return other
  }
}
