/**
 * Streamlane next to Kafka Streams (issue 17), on the same broker and the same pre-produced input in one run, for
 * each workload of bench/peer/workloads.ts: each system in a process of its own (Node; a JVM running
 * conformance/kafka-streams' PeerBench) runs a cold app, then a warm one, until every input offset is committed
 * (bench/peer/system-run.ts). The final value per key of every output is compared with Kafka Streams' warm output.
 *
 * `npm run bench -- peer [--workload stateless,count,window,eos,eos-5s,reduce,restore] [--order
 * streamlane-first|kafka-streams-first|both]`. Results accumulate per workload and order (bench/peer/results.ts).
 * BENCH_PEER_RECORDS overrides the record count (a quick try; the results say what ran); BENCH_PEER_CPU_PROF=<dir>
 * writes a V8 CPU profile of each Streamlane process there.
 */
import { readToEnd, removeStateDirs } from './lib/app-runs.ts'
import type { BenchContext, Measured } from './lib/bench-context.ts'
import type { Benchmark, BenchOptions } from './lib/benchmark.ts'
import { invokingCommand } from './lib/report.ts'
import { integer } from './lib/table.ts'
import {
  compareFinalValues,
  describeComparison,
  type FinalValues,
  foldFinalValues,
  matched
} from './peer/final-values.ts'
import { KEYS, PARTITIONS, produceInput, RECORDS, VALUE_SIZE } from './peer/inputs.ts'
import {
  commands,
  detailTable,
  loadEntries,
  mergeEntries,
  type PeerEntry,
  type SystemSummary,
  saveEntries,
  summaryTable
} from './peer/results.ts'
import { type AppRun, type PeerSystem, runSystem, type SystemRun } from './peer/system-run.ts'
import { selectWorkloads, type Workload } from './peer/workloads.ts'

async function finalValues(ctx: BenchContext, topic: string): Promise<FinalValues> {
  const values: FinalValues = new Map()
  await readToEnd(ctx, topic, 'output check', { copyBuffers: true, isolation: 'read_committed' }, (batch) =>
    foldFinalValues(values, batch)
  )
  return values
}

/** Every output of the run against Kafka Streams' warm output. */
async function checkOutputs(ctx: BenchContext, streamlane: SystemRun, kafkaStreams: SystemRun) {
  const reference = await finalValues(ctx, kafkaStreams.warm.output)
  const checks: { what: string; description: string; ok: boolean }[] = []
  for (const [what, run] of [
    ['Streamlane warm', streamlane.warm],
    ['Streamlane cold', streamlane.cold],
    ['Kafka Streams cold', kafkaStreams.cold]
  ] as const) {
    const comparison = compareFinalValues(reference, await finalValues(ctx, run.output))
    checks.push({ what, description: describeComparison(comparison), ok: matched(comparison) })
  }
  const ok = checks.every((c) => c.ok) && reference.size > 0
  return {
    ok,
    text: ok ? `equal (${integer(reference.size)} keys)` : checks.map((c) => `${c.what}: ${c.description}`).join('; ')
  }
}

const app = (a: AppRun) => ({
  seconds: a.seconds,
  cpuSeconds: a.cpuSeconds,
  brokerCpuSeconds: a.brokerCpuSeconds ?? null
})

function summary(run: Measured<SystemRun>): SystemSummary {
  return {
    cold: app(run.result.cold),
    warm: app(run.result.warm),
    otherCores: run.result.cpu.otherCores ?? null,
    disturbed: run.disturbed,
    attempts: run.attempts
  }
}

async function measureWorkload(ctx: BenchContext, workload: Workload, order: PeerEntry['order']): Promise<PeerEntry> {
  ctx.log(`peer: ${workload.name}: producing the input`)
  const input = await produceInput(ctx, workload.input)
  const systems: PeerSystem[] =
    order === 'streamlane-first' ? ['Streamlane', 'Kafka Streams'] : ['Kafka Streams', 'Streamlane']
  const runs = new Map<PeerSystem, Measured<SystemRun>>()
  for (const system of systems) {
    runs.set(system, await ctx.measure(`${workload.name}: ${system}`, () => runSystem(ctx, system, workload, input)))
  }
  const streamlane = runs.get('Streamlane')!
  const kafkaStreams = runs.get('Kafka Streams')!
  const outputs =
    workload.input === 'changelog'
      ? { ok: true, text: `both restored all ${integer(RECORDS)} changelog records, cold and warm` }
      : await checkOutputs(ctx, streamlane.result, kafkaStreams.result)
  ctx.log(`peer: ${workload.name}: final values ${outputs.text}`)
  if (!outputs.ok) throw new Error(`peer: ${workload.name}: the outputs differ: ${outputs.text}`)
  return {
    workload: workload.name,
    order,
    date: new Date().toISOString(),
    command: invokingCommand(),
    records: RECORDS,
    streamlane: summary(streamlane),
    kafkaStreams: summary(kafkaStreams),
    outputs: outputs.text,
    matched: outputs.ok
  }
}

export const peer: Benchmark = {
  name: 'peer',
  description: `Streamlane vs Kafka Streams on the same broker and input, ${integer(RECORDS)} records per workload, cold and warm`,
  resultsFile: 'peer.md',
  async run(ctx, options?: BenchOptions) {
    const workloads = selectWorkloads(options?.workloads ?? [])
    const order = options?.order ?? 'streamlane-first'
    const orders: PeerEntry['order'][] = order === 'both' ? ['streamlane-first', 'kafka-streams-first'] : [order]
    // A quick try (BENCH_PEER_RECORDS) reports only itself; full runs accumulate, saved after each workload so a
    // run cut short keeps what it measured.
    const quick = process.env.BENCH_PEER_RECORDS !== undefined
    const measured: PeerEntry[] = []
    try {
      for (const workload of workloads) {
        for (const o of orders) {
          const entry = await measureWorkload(ctx, workload, o)
          measured.push(entry)
          if (!quick) saveEntries(mergeEntries(loadEntries(), [entry]))
        }
      }
    } finally {
      removeStateDirs()
    }
    return report(quick ? measured : loadEntries())
  }
}

function report(entries: PeerEntry[]) {
  return {
    title: 'Streamlane vs Kafka Streams on the same broker (issue 17)',
    summary: [
      `Each workload reads the same pre-produced topic with both systems, one after the other on the same broker:` +
        ` ${integer(RECORDS)} records, ${PARTITIONS} partitions, ${VALUE_SIZE}-byte values, keys \`i % ${integer(KEYS)}\`` +
        ' as 8 ASCII digits (reduce: distinct keys; the window count: event times 1 ms apart). Each system runs in a' +
        ' process of its own (Streamlane: Node; Kafka Streams: a JVM, -Xmx1g, one stream thread), which runs a cold' +
        ' app and then a warm one: a second app of the same topology with its own application id over the same' +
        ' input, after the first has finished and closed. An app is done when its group has committed every input' +
        ' offset (restore: when it has restored every changelog record). Ratios are Streamlane / Kafka Streams:' +
        ' records/s above 1 is faster, CPU above 1 costlier. The results accumulate over runs (one per workload and' +
        ' order, the newest kept), each row with its own date; the command of each is listed below.'
    ],
    tables: [
      { heading: 'Streamlane / Kafka Streams', markdown: summaryTable(entries) },
      { heading: 'Measurements', markdown: detailTable(entries) }
    ],
    notes: [
      'cold: from spawning the process (Node or JVM start-up, loading, JIT from nothing) until the first app is done;' +
        ' CPU from /proc of the whole process since it started. warm: from sending the second app its `run` command' +
        ' (its start, group join and processing, the JIT already warm from the first app) until it is done; CPU: the' +
        " process's /proc delta over that span. Both include the app's start-up (topic checks, group join) and the" +
        ' wait for its last commit.',
      'CPU per record: process CPU seconds (user + system, all threads: JIT, GC, LMDB or RocksDB, the Kafka' +
        " client's) over the records. broker CPU per record: the benchmark's single-node broker over the same span" +
        ' (fetches, produces, transactions and offset commits the app caused, and the 50 ms committed-offset polls' +
        ' of the benchmark, the same for both).',
      'Both with the same guarantee and commit interval (set explicitly; Kafka Streams defaults to 30 s under' +
        ' at-least-once), otherwise defaults: Streamlane an LMDB store and a 10 MiB record cache per task, Kafka' +
        ' Streams RocksDB and a 10 MiB record cache per instance; changelogs on; a fresh state directory per app.',
      'final values: the last value per key of each output topic (read with read_committed) against Kafka Streams`' +
        ' warm output: "equal" when both cold and both warm outputs hold the same keys with the same final values' +
        ' (counts, window counts keyed `key@windowStart`, mapped or latest values). The restore workload has no' +
        ' output: both systems restored every changelog record.',
      'restore: a 1M-key changelog (distinct 8-digit keys, 100-byte values, compacted) produced for each app before' +
        ' its process starts, restored into an empty state directory; done when the app reports every record restored' +
        " (Kafka Streams: its global state restore listener's batch counts; Streamlane: `progress().restored`).",
      'other cores: average cores busy with other processes on the shared 2-core machine during a system turn;' +
        ' "(busy)" marks a turn above the threshold even after one retry, "(retried)" one measured twice.',
      ...commands(entries).map((c) => `command: \`${c}\``)
    ]
  }
}
