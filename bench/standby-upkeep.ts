/**
 * What keeping a standby copy current costs, as a fraction of processing the input it copies: the number the
 * autoscaling simulator's `standbyCostFraction` stands for (src/autoscale/simulator/scenario.ts, docs/autoscaling.md).
 *
 * The app counts records per key (test/integration/runtime/fixtures/count-app.ts: LMDB store, changelog, cache 0 so
 * every update reaches the changelog: one changelog record per input record, the most a standby can have to apply),
 * 12 input partitions, two instances, each its own OS process run with `streamlane run`. It runs twice per round,
 * once with `numStandbyReplicas` 1 (each instance holds 6 active tasks and a standby copy of the other's 6) and once
 * with 0 (6 active tasks each, nothing else); everything else is equal. In each run, once the group is balanced (and,
 * with standbys, every copy caught up): both processes' CPU seconds over IDLE_SECONDS with no input, then over
 * MEASURE_SECONDS with input flowing at RATE records/s (after WARM_SECONDS of flow). Work = flowing CPU - idle CPU,
 * per input record (the producer does not hit RATE exactly, so each run is normalised by its own input):
 *
 *   upkeep fraction = (work per record with standbys - work per record without) / work per record without
 *
 * i.e. the CPU one standby copy costs per input record of its partition, over what processing that record costs
 * its active task (reading, counting, writing the store, the output and the changelog, committing).
 *
 * BENCH_UPKEEP_RATE (default 3,000 records/s), BENCH_UPKEEP_SECONDS (default 30) and BENCH_UPKEEP_ROUNDS (default 2)
 * set the input rate, the measured span and how many times each mode runs (alternating).
 */
import { fileURLToPath } from 'node:url'
import { createProducer } from '../src/kafka/producer.ts'
import { AppInstance, killAll } from '../test/integration/runtime/instances.ts'
import { consumedAll, waitUntil } from './handover.ts'
import { freshStateDir, removeStateDirs } from './lib/app-runs.ts'
import type { BenchContext } from './lib/bench-context.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { processCpuSeconds, startCpuMeter } from './lib/cpu-meter.ts'
import { balanced } from './lib/handover-balance.ts'
import { endOffsetTotal, sendAll } from './lib/records.ts'
import { fixed, integer, markdownTable } from './lib/table.ts'

const RATE = Number(process.env.BENCH_UPKEEP_RATE ?? 3_000)
const MEASURE_SECONDS = Number(process.env.BENCH_UPKEEP_SECONDS ?? 30)
const ROUNDS = Number(process.env.BENCH_UPKEEP_ROUNDS ?? 2)
const IDLE_SECONDS = 10
const WARM_SECONDS = 5
const KEYS = 100_000
const PARTITIONS = 12
const INSTANCES = 2
const module = fileURLToPath(new URL('../test/integration/runtime/fixtures/count-app.ts', import.meta.url))

interface Run {
  standbys: number
  /** CPU seconds per second of both instances with no input. */
  idleCores: number
  /** CPU seconds per second of both instances with input flowing. */
  flowCores: number
  /** Input records per second over the measured span (what was produced). */
  inputRate: number
  /** Changelog records appended per input record over the measured span. */
  changelogPerInput: number
  /** Cores busy with anything but these instances and the broker while measuring. */
  otherCores: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function cpuOver(ctx: BenchContext, instances: AppInstance[], seconds: number) {
  const before = instances.map((i) => processCpuSeconds(i.child.pid!) ?? 0)
  const meter = startCpuMeter(ctx.brokerPid)
  await sleep(seconds * 1000)
  const after = instances.map((i) => processCpuSeconds(i.child.pid!) ?? 0)
  const reading = meter.stop()
  const used = after.reduce((sum, cpu, i) => sum + cpu - before[i]!, 0)
  // The meter counts every process but this one and the broker as other work: the instances are ours.
  return {
    cores: used / reading.wallSeconds,
    otherCores: Math.max(0, (reading.otherCores ?? 0) - used / reading.wallSeconds)
  }
}

async function runMode(ctx: BenchContext, standbys: number): Promise<Run> {
  const appId = ctx.uniqueName('bench-upkeep')
  const input = ctx.uniqueName('upkeep-in')
  const output = ctx.uniqueName('upkeep-out')
  await ctx.admin.createTopics([
    { name: input, partitions: PARTITIONS },
    { name: output, partitions: PARTITIONS }
  ])
  const instances = Array.from(
    { length: INSTANCES },
    (_, i) =>
      new AppInstance(`i${i}`, module, {
        KAFKA_BROKERS: ctx.bootstrap,
        STREAMLANE_APPLICATION_ID: appId,
        INPUT_TOPIC: input,
        OUTPUT_TOPIC: output,
        STREAMLANE_STATE_DIR: freshStateDir('upkeep'),
        STREAMLANE_CACHE_MAX_BYTES: '0',
        STREAMLANE_METRICS_PORT: '0',
        STREAMLANE_HIGH_AVAILABILITY: 'true',
        STREAMLANE_NUM_STANDBY_REPLICAS: String(standbys)
      })
  )
  const producer = createProducer({ brokers: ctx.brokers, clientId: 'bench-upkeep-input' })
  let produced = 0
  const record = (i: number) => ({ topic: input, key: Buffer.from(`k${i % KEYS}`), value: Buffer.from('x') })
  let flowing = false
  let flow: Promise<void> = Promise.resolve()
  try {
    await waitUntil('the first balanced assignment', () => balanced(instances, PARTITIONS, false), 120_000)
    await sendAll(producer, KEYS, record)
    produced = KEYS
    await waitUntil('the state built', () => consumedAll(ctx, appId, input), 300_000)
    await waitUntil(
      'a balanced group (standbys caught up)',
      () => balanced(instances, PARTITIONS, standbys > 0),
      300_000
    )
    const idle = await cpuOver(ctx, instances, IDLE_SECONDS)

    flowing = true
    flow = (async () => {
      const perTick = Math.max(1, Math.round(RATE / 10))
      while (flowing) {
        const tick = Date.now()
        const batch = Array.from({ length: perTick }, (_, k) => record(produced + k))
        produced += perTick
        await producer.send(batch)
        await sleep(Math.max(0, 100 - (Date.now() - tick)))
      }
    })()
    await sleep(WARM_SECONDS * 1000)
    const changelog = `${appId}-counts-changelog`
    const [producedBefore, changelogBefore, started] = [
      produced,
      await endOffsetTotal(ctx.admin, changelog),
      Date.now()
    ]
    const busy = await cpuOver(ctx, instances, MEASURE_SECONDS)
    const [producedAfter, changelogAfter, ended] = [produced, await endOffsetTotal(ctx.admin, changelog), Date.now()]
    flowing = false
    await flow
    // The group must have kept up: a backlog would mean the instances were saturated, not measured.
    await waitUntil('all input consumed', () => consumedAll(ctx, appId, input), 60_000)
    const inputs = producedAfter - producedBefore
    const run: Run = {
      standbys,
      idleCores: idle.cores,
      flowCores: busy.cores,
      inputRate: (inputs * 1000) / (ended - started),
      changelogPerInput: (changelogAfter - changelogBefore) / inputs,
      otherCores: Math.max(idle.otherCores, busy.otherCores)
    }
    ctx.log(`standby upkeep, ${standbys} standby replica(s): ${JSON.stringify(run)}`)
    return run
  } finally {
    flowing = false
    await flow
    for (const instance of instances) if (instance.child.exitCode === null) instance.signal('SIGTERM')
    await Promise.race([Promise.all(instances.map((i) => i.exited)), sleep(30_000)])
    await killAll(instances)
    await producer.close()
    removeStateDirs()
  }
}

const work = (r: Run) => r.flowCores - r.idleCores
/** Work CPU seconds per input record. */
const perRecord = (r: Run) => work(r) / r.inputRate

export const standbyUpkeep: Benchmark = {
  name: 'standby-upkeep',
  description: "what keeping a standby copy current costs, as a fraction of processing its partition's input",
  resultsFile: 'standby-upkeep.md',
  async run(ctx) {
    const runs: Run[] = []
    for (let round = 0; round < ROUNDS; round++) for (const standbys of [1, 0]) runs.push(await runMode(ctx, standbys))
    const rounds = Array.from({ length: ROUNDS }, (_, round) => {
      const [withCopies, without] = [runs[2 * round]!, runs[2 * round + 1]!]
      return (perRecord(withCopies) - perRecord(without)) / perRecord(without)
    })
    const rows = runs.map((r, i) => [
      String(Math.floor(i / 2) + 1),
      String(r.standbys),
      integer(r.inputRate),
      fixed(r.changelogPerInput, 2),
      fixed(r.idleCores, 3),
      fixed(r.flowCores, 3),
      fixed(work(r), 3),
      fixed(perRecord(r) * 1e6, 1),
      fixed(r.otherCores, 2)
    ])
    const mean = rounds.reduce((a, b) => a + b, 0) / rounds.length
    return {
      title: 'Standby upkeep: the CPU a standby copy costs per input record, against processing it',
      summary: [
        `A count per key (LMDB store, changelog, cache 0: one changelog record per input record) over ${PARTITIONS} ` +
          `input partitions and ${integer(KEYS)} keys, ${INSTANCES} instances, each its own process (\`streamlane ` +
          `run\`), input at ${integer(RATE)} records/s. Each round runs the app with numStandbyReplicas 1 (each ` +
          'instance: 6 active tasks and standby copies of the other 6) and with 0, otherwise the same. CPU: both ' +
          `instances' user + system seconds per second, with no input (${IDLE_SECONDS} s) and with input flowing ` +
          `(${MEASURE_SECONDS} s, after ${WARM_SECONDS} s of flow); work = flowing - idle, per input record. The upkeep ` +
          'fraction is (work per record with standbys - work per record without) / work per record without: what ' +
          'one standby copy costs per input record of its partition, over what processing that record costs the ' +
          "partition's active task."
      ],
      tables: [
        {
          heading: 'Results',
          markdown: markdownTable({
            headers: [
              'round',
              'standby replicas',
              'input records/s',
              'changelog records per input',
              'idle cores',
              'flowing cores',
              'work cores',
              'work CPU µs per input record',
              'other cores'
            ],
            rows,
            align: ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right']
          })
        }
      ],
      notes: [
        `Upkeep fraction per round: ${rounds.map((f) => fixed(f, 3)).join(', ')}; mean ${fixed(mean, 3)}.`,
        'other cores: cores busy with anything but the two instances and the broker while measuring (the machine is ' +
          'shared); a round with much other work is less trustworthy.'
      ]
    }
  }
}
