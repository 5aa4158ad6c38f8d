/**
 * Single instance, stateful count per key over 1M x 100-byte records spread over 100,000 keys: a StreamlaneApp
 * running `stream(in).groupByKey().count(Materialized.as('counts')).toStream().to(out)` with the default
 * configuration (LMDB store, 10 MiB record cache per task, commit every 5 s), next to the raw client in the same run
 * on the same input: the partition reader alone (what fetching costs) and the reader -> producer loop forwarding
 * every record (what a stateless pipeline on the same client costs). The app is timed from start() until it has
 * processed and committed every input record; the final counts are checked afterwards.
 *
 * BENCH_RECORDS and BENCH_KEYS override the record and key counts (for a quick try; the results file says what ran).
 */
import { Materialized, Serdes, StreamsBuilder, type Topology } from '../src/index.ts'
import { createProducer } from '../src/kafka/producer.ts'
import { StreamlaneApp } from '../src/runtime/streamlane-app.ts'
import { capturingLogger, freshStateDir, otherCell, readToEnd, removeStateDirs, waitForApp } from './lib/app-runs.ts'
import type { BenchContext, Measured } from './lib/bench-context.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { type CpuReading, startCpuMeter } from './lib/cpu-meter.ts'
import { runRawConsumeProduce } from './lib/raw-loop.ts'
import { endOffsetTotal, RECORDS_PER_SEND, sendAll, textPayload } from './lib/records.ts'
import { type Cell, cpuMicrosPerRecord, fixed, integer, markdownTable, ratio } from './lib/table.ts'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000)
const VALUE_SIZE = 100
const PARTITIONS = 6
const WARMUP_RECORDS = 50_000
const STORE = 'counts'

export interface Run {
  label: string
  records: number
  /** From start until done: every input record committed (app), read (fetch) or acknowledged downstream (loop). */
  cpu: CpuReading
  /** Before the first record could be processed (app: start() with group join; raw: creating and assigning). */
  startupSeconds: number
  /** When the last input record was processed (app), read or acknowledged (raw). */
  processedSeconds: number
  /** Records the run wrote: output records, and for the app its changelog records. */
  outputs: number
  changelog: number
  /** App only: the output topic, to check the final counts. */
  output?: string
}

const keyOf = (i: number) => Buffer.from(String(i % KEYS).padStart(8, '0'))

function topology(input: string, output: string): Topology {
  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.bytes(), valueSerde: Serdes.bytes() })
    .groupByKey()
    .count(Materialized.as(STORE))
    .toStream()
    .to(output, { keySerde: Serdes.bytes(), valueSerde: Serdes.long() })
  return builder.build()
}

async function createTopic(ctx: BenchContext, prefix: string): Promise<string> {
  const topic = ctx.uniqueName(prefix)
  await ctx.admin.createTopics([{ name: topic, partitions: PARTITIONS }])
  return topic
}

/** `records` records keyed `i % KEYS` (8 ASCII digits) with 100-byte lowercase values, spread by key. */
export async function produceInput(ctx: BenchContext, records: number): Promise<string> {
  const topic = await createTopic(ctx, 'stateful-in')
  const producer = createProducer({ brokers: ctx.brokers, clientId: 'bench-stateful-input' })
  const values = Array.from({ length: 64 }, (_, i) => textPayload(VALUE_SIZE, i + 1))
  try {
    await sendAll(producer, records, (i) => ({ topic, key: keyOf(i), value: values[i % values.length]! }))
  } finally {
    await producer.close()
  }
  return topic
}

export async function runStreamlane(
  ctx: BenchContext,
  input: string,
  records: number,
  processingGuarantee: 'at_least_once' | 'exactly_once_v2' = 'at_least_once',
  commitIntervalMs?: number
): Promise<Run> {
  const output = await createTopic(ctx, 'stateful-out')
  const applicationId = ctx.uniqueName('bench-stateful')
  const { logger } = capturingLogger('stateful', 'warn')
  // Defaults otherwise: commit every 5 s (100 ms under exactly-once), LMDB store, 10 MiB record cache per task.
  const app = new StreamlaneApp(
    topology(input, output),
    {
      applicationId,
      bootstrapServers: ctx.brokers,
      stateDir: freshStateDir('stateful'),
      processingGuarantee,
      ...(commitIntervalMs === undefined ? {} : { commitIntervalMs })
    },
    { logger }
  )
  const meter = startCpuMeter(ctx.brokerPid)
  let run: Omit<Run, 'outputs' | 'changelog'>
  try {
    await app.start()
    const startupSeconds = meter.stop().wallSeconds
    await waitForApp(app, 'every input record processed', () => app.progress().processed >= records)
    const processedSeconds = meter.stop().wallSeconds
    await waitForApp(app, 'every input record committed', () => app.progress().committed >= records)
    const cpu = meter.stop()
    const interval = commitIntervalMs === undefined ? '' : `, commit every ${commitIntervalMs} ms`
    const label = `Streamlane app: groupByKey -> count -> to (${processingGuarantee}${interval})`
    run = { label, records, cpu, startupSeconds, processedSeconds, output }
  } finally {
    await app.close()
  }
  return {
    ...run,
    outputs: await endOffsetTotal(ctx.admin, output),
    changelog: await endOffsetTotal(ctx.admin, `${applicationId}-${STORE}-changelog`)
  }
}

/** Fetching alone: the app's input reader settings, every record of the input read once. */
async function runFetch(ctx: BenchContext, input: string, records: number): Promise<Run> {
  const read = await readToEnd(ctx, input, 'raw partition reader: fetch only')
  if (read.records !== records) throw new Error(`read ${read.records} records of ${input}, expected ${records}`)
  const seconds = read.cpu.wallSeconds
  return {
    label: read.label,
    records,
    cpu: read.cpu,
    startupSeconds: 0,
    processedSeconds: seconds,
    outputs: 0,
    changelog: 0
  }
}

/** The raw client loop (bench/lib/raw-loop.ts) forwarding every record unchanged. */
async function runRawLoop(ctx: BenchContext, input: string, records: number): Promise<Run> {
  const output = await createTopic(ctx, 'stateful-out-raw')
  const { cpu, startupSeconds } = await runRawConsumeProduce(ctx, { input, output, partitions: PARTITIONS, records })
  return {
    label: 'raw client loop: reader -> producer (every record)',
    records,
    cpu,
    startupSeconds,
    processedSeconds: cpu.wallSeconds,
    outputs: await endOffsetTotal(ctx.admin, output),
    changelog: 0
  }
}

/** Reads the app's output to its end: the last count of each key must be its number of input records. */
export async function checkCounts(ctx: BenchContext, output: string, records: number): Promise<string> {
  const latest = new Map<string, bigint>()
  await readToEnd(ctx, output, 'check', { copyBuffers: true }, (batch) => {
    for (const r of batch) if (r.key && r.value) latest.set(r.key.toString('latin1'), r.value.readBigInt64BE(0))
  })
  let wrong = 0
  let total = 0n
  for (let k = 0; k < KEYS; k++) {
    const expected = BigInt(Math.floor(records / KEYS) + (k < records % KEYS ? 1 : 0))
    const count = latest.get(keyOf(k).toString('latin1')) ?? 0n
    total += count
    if (count !== expected) wrong++
  }
  return wrong === 0
    ? `The final count of every one of the ${integer(KEYS)} keys in the app's output equals its number of input records (sum ${integer(Number(total))}).`
    : `${integer(wrong)} of ${integer(KEYS)} keys ended with a count other than their number of input records (sum ${integer(Number(total))} of ${integer(records)}).`
}

export const rate = (r: Run) => r.records / r.cpu.wallSeconds
const processingRate = (r: Run) => r.records / (r.processedSeconds - r.startupSeconds)

/** Columns of an app run's row (`row`), shared with bench/exactly-once.ts. */
export const RESULT_HEADERS = [
  'pipeline',
  'records/s',
  'CPU s',
  'CPU µs/record',
  'seconds',
  'of which start-up s',
  'all processed at s',
  'records/s processing',
  'broker CPU s',
  'other cores'
]
export const RESULT_ALIGN: ('left' | 'right')[] = ['left', ...RESULT_HEADERS.slice(1).map(() => 'right' as const)]

export function row(run: Measured<Run>): Cell[] {
  const r = run.result
  return [
    r.label,
    integer(rate(r)),
    fixed(r.cpu.ownCpuSeconds),
    cpuMicrosPerRecord(r.cpu.ownCpuSeconds, r.records),
    fixed(r.cpu.wallSeconds),
    fixed(r.startupSeconds),
    fixed(r.processedSeconds),
    integer(processingRate(r)),
    fixed(r.cpu.brokerCpuSeconds ?? Number.NaN),
    otherCell(run)
  ]
}

function ratioRow(ours: Run, reference: Run, name: string): Cell[] {
  return [
    `**ratio Streamlane / ${name}**`,
    `**${ratio(rate(ours), rate(reference))}**`,
    `**${ratio(ours.cpu.ownCpuSeconds, reference.cpu.ownCpuSeconds)}**`,
    `**${ratio(ours.cpu.ownCpuSeconds / ours.records, reference.cpu.ownCpuSeconds / reference.records)}**`,
    ratio(ours.cpu.wallSeconds, reference.cpu.wallSeconds),
    '',
    '',
    ratio(processingRate(ours), processingRate(reference)),
    ratio(ours.cpu.brokerCpuSeconds ?? Number.NaN, reference.cpu.brokerCpuSeconds ?? Number.NaN),
    ''
  ]
}

export const stateful: Benchmark = {
  name: 'stateful',
  description: `single instance, groupByKey().count() over ${integer(RECORDS)} x ${VALUE_SIZE}-byte records and ${integer(KEYS)} keys, vs the raw client`,
  resultsFile: 'stateful.md',
  async run(ctx) {
    try {
      ctx.log(
        `stateful: producing ${integer(RECORDS)} input records and a ${integer(WARMUP_RECORDS)}-record warm-up topic`
      )
      const input = await produceInput(ctx, RECORDS)
      const warmInput = await produceInput(ctx, WARMUP_RECORDS)
      ctx.log('stateful: warming up the three pipelines')
      await runFetch(ctx, warmInput, WARMUP_RECORDS)
      await runRawLoop(ctx, warmInput, WARMUP_RECORDS)
      await runStreamlane(ctx, warmInput, WARMUP_RECORDS)

      const fetch = await ctx.measure('raw partition reader', () => runFetch(ctx, input, RECORDS))
      const loop = await ctx.measure('raw client loop', () => runRawLoop(ctx, input, RECORDS))
      const ours = await ctx.measure('Streamlane count app', () => runStreamlane(ctx, input, RECORDS))
      const check = await checkCounts(ctx, ours.result.output!, RECORDS)
      ctx.log(`stateful: ${check}`)
      const table = markdownTable({
        headers: RESULT_HEADERS,
        rows: [
          row(fetch),
          row(loop),
          row(ours),
          ratioRow(ours.result, fetch.result, 'fetch only'),
          ratioRow(ours.result, loop.result, 'raw loop')
        ],
        align: RESULT_ALIGN
      })
      const o = ours.result
      return {
        title: `Stateful count per key, single instance: Streamlane vs the raw client (${integer(RECORDS)} x ${VALUE_SIZE} B, ${integer(KEYS)} keys)`,
        summary: [
          `Input: ${integer(RECORDS)} records pre-produced into a topic of ${PARTITIONS} partitions, keyed \`i % ${integer(KEYS)}\`` +
            ` (8 ASCII digits; each key ${integer(RECORDS / KEYS)} times, interleaved), ${VALUE_SIZE}-byte lowercase values.` +
            ' The Streamlane app counts records per key and writes each count update to an output topic; it is timed from' +
            ' start() until `app.progress().committed` reaches the input count (its offsets are committed only after its' +
            ' outputs and changelog writes are acknowledged and the store has committed). The raw client reads the same' +
            ' input. Ratios are Streamlane / reference: records/s above 1 is faster, CPU above 1 costlier.'
        ],
        tables: [{ heading: 'Results', markdown: table }],
        notes: [
          'Streamlane app: `StreamlaneApp` with `stream(in, bytes keys and values).groupByKey().count(Materialized.as(' +
            `'${STORE}')).toStream().to(out, long values)\` and the default configuration: at-least-once, commit interval 5 s,` +
            ' persistent LMDB store (fsync on commit) logged to its changelog, record cache of 10 MiB per task, 1,000 records' +
            ` buffered per partition; a fresh state directory under ${'`'}os.tmpdir()${'`'} per run. Its time includes start()` +
            ` (topic checks, creating the changelog topic, joining its group as the only member, opening ${PARTITIONS} LMDB` +
            ' environments).',
          `It wrote ${integer(o.outputs)} output records and ${integer(o.changelog)} changelog records for ${integer(o.records)}` +
            ' input records: the record cache forwards one update per key per commit (or eviction), not one per record.',
          'seconds: until done (the app: every input offset committed; the fetch: every record read; the loop: every' +
            " forwarded record acknowledged). all processed at s: when the last input record went through the app's" +
            ' count (for the raw rows, the same as seconds); records/s processing: input records over that time minus' +
            ' start-up. The gap between the two is the app waiting for its next commit (every 5 s) and flushing its cache.',
          "Fetch only: one `createPartitionReader` with the settings of the app's input reader (read_uncommitted, 1 MiB" +
            ' per partition, 10,000 records per poll) reading the input to its end, records counted, nothing else.' +
            ' Raw loop: the same reader and one `createProducer` (idempotent, acks all) forwarding every record' +
            ` unchanged, ${integer(RECORDS_PER_SEND)} records per send(), timed until the output holds them all. Neither has a` +
            ' group, offset commits, store, cache or serdes: the floor the runtime adds its work to.',
          "CPU s: `process.cpuUsage()` delta of this Node process (all threads, so LMDB's too); every pipeline runs in" +
            ` it, one after the other, after a warm-up of each over ${integer(WARMUP_RECORDS)} records. other cores: average` +
            ' cores busy with other processes on the shared machine; "(busy)" marks a run above the threshold even after' +
            ' one retry, "(retried)" one measured twice (the less disturbed kept).',
          check
        ]
      }
    } finally {
      removeStateDirs()
    }
  }
}
