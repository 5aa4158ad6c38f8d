/**
 * One system's turn in the peer benchmark: a fresh process (a JVM for Kafka Streams, Node for Streamlane) runs a
 * first app of the workload's topology (cold: timed from the process's start, JVM or Node start-up and JIT
 * included) and then a second one, a new application over the same input (warm: timed from its `run` command). An
 * app is done when its group has committed every input offset, or for the restore workload when it has restored
 * every changelog record. CPU is the whole process's (/proc), so JIT, GC and every thread count.
 */
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { kafkaStreamsClasspath } from '../../test/conformance/kafka-streams-peer.ts'
import { freshStateDir } from '../lib/app-runs.ts'
import type { BenchContext } from '../lib/bench-context.ts'
import { type CpuReading, startCpuMeter } from '../lib/cpu-meter.ts'
import { createTopic, produceChangelog, RECORDS } from './inputs.ts'
import { PeerProcess } from './peer-process.ts'
import { GRACE_MS, WINDOW_MS, type Workload } from './workloads.ts'

export type PeerSystem = 'Streamlane' | 'Kafka Streams'

export interface AppRun {
  seconds: number
  /** CPU seconds of the whole process during the app's run. */
  cpuSeconds: number
  brokerCpuSeconds: number | undefined
  /** Cores busy with anything but the process and the broker, on average. */
  otherCores: number | undefined
  /** The app's output topic (for the comparison; empty for the restore workload). */
  output: string
}

export interface SystemRun {
  system: PeerSystem
  cold: AppRun
  warm: AppRun
  /** The whole turn, process start to the warm app done (for ctx.measure's disturbance check). */
  cpu: CpuReading
}

const APP_TIMEOUT_MS = 600_000

function spawnPeer(system: PeerSystem, workload: Workload, ctx: BenchContext, input: string): PeerProcess {
  const args = [
    ctx.bootstrap,
    workload.topology,
    input,
    workload.guarantee,
    String(workload.commitIntervalMs),
    String(WINDOW_MS),
    String(GRACE_MS)
  ]
  if (system === 'Kafka Streams') {
    const java = ['-Xmx1g', '-cp', kafkaStreamsClasspath(), 'dev.streamlane.conformance.PeerBench', ...args]
    return new PeerProcess(system, 'java', java)
  }
  // BENCH_PEER_CPU_PROF=<dir>: a V8 CPU profile of the Streamlane process (open it in Chrome DevTools).
  const profile = process.env.BENCH_PEER_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PEER_CPU_PROF}`]
    : []
  const script = join(import.meta.dirname, 'streamlane-peer.ts')
  return new PeerProcess(system, process.execPath, [...profile, script, ...args])
}

async function committed(ctx: BenchContext, group: string, topic: string): Promise<number> {
  const offsets = await ctx.admin.fetchGroupOffsets(group, [topic])
  return offsets.reduce((sum, o) => sum + (o.offset > 0n ? Number(o.offset) : 0), 0)
}

/** Polls the group's committed offsets every 50 ms until they cover every input record. */
async function untilCommitted(ctx: BenchContext, peer: PeerProcess, group: string, input: string): Promise<void> {
  const deadline = Date.now() + APP_TIMEOUT_MS
  for (;;) {
    if (peer.failure) throw peer.failure
    if ((await committed(ctx, group, input)) >= RECORDS) return
    if (Date.now() > deadline) throw new Error(`${peer.label}: ${group} did not commit every input offset in time`)
    await delay(50)
  }
}

interface AppPlan {
  applicationId: string
  output: string
}

async function planApp(ctx: BenchContext, system: PeerSystem, workload: Workload): Promise<AppPlan> {
  const tag = system === 'Streamlane' ? 'sl' : 'ks'
  const applicationId = ctx.uniqueName(`peer-${workload.name}-${tag}`)
  if (workload.input === 'changelog') await produceChangelog(ctx, applicationId)
  return { applicationId, output: await createTopic(ctx, `peer-${workload.name}-${tag}-out`) }
}

/** Runs one app in `peer` and waits until it is done; `since` is where its clock and CPU started. */
async function runApp(
  ctx: BenchContext,
  peer: PeerProcess,
  workload: Workload,
  input: string,
  app: AppPlan,
  since: { at: number; cpu: number }
): Promise<AppRun> {
  const meter = startCpuMeter(ctx.brokerPid)
  const restoring = workload.input === 'changelog'
  peer.send(`run ${app.applicationId} ${freshStateDir('peer')} ${app.output} ${restoring ? RECORDS : 0}`)
  if (restoring) await peer.waitFor('restored', APP_TIMEOUT_MS)
  else await untilCommitted(ctx, peer, app.applicationId, input)
  const seconds = (performance.now() - since.at) / 1000
  const cpuSeconds = peer.cpuSeconds() - since.cpu
  const reading = meter.stop(cpuSeconds)
  peer.send('close')
  await peer.waitFor('closed', 60_000)
  return {
    seconds,
    cpuSeconds,
    brokerCpuSeconds: reading.brokerCpuSeconds,
    otherCores: reading.otherCores,
    output: app.output
  }
}

export async function runSystem(
  ctx: BenchContext,
  system: PeerSystem,
  workload: Workload,
  input: string
): Promise<SystemRun> {
  // Changelogs (restore) and output topics first: their making is not part of any measurement.
  const coldApp = await planApp(ctx, system, workload)
  const warmApp = await planApp(ctx, system, workload)
  if (system === 'Kafka Streams') kafkaStreamsClasspath()
  const meter = startCpuMeter(ctx.brokerPid)
  const started = performance.now()
  const peer = spawnPeer(system, workload, ctx, input)
  try {
    const cold = await runApp(ctx, peer, workload, input, coldApp, { at: started, cpu: 0 })
    const warm = await runApp(ctx, peer, workload, input, warmApp, {
      at: performance.now(),
      cpu: peer.cpuSeconds()
    })
    return { system, cold, warm, cpu: meter.stop(peer.cpuSeconds()) }
  } finally {
    await peer.stop()
  }
}
