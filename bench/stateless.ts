/**
 * Single instance, stateless map -> sink over 1M x 100-byte records: a StreamlaneApp running
 * `stream(in).mapValues(toUpperCase).to(out)` next to the raw client's consume-and-produce loop doing the same work
 * (partition reader poll -> the same transform -> producer.send batches), in the same run on the same input.
 * Both are timed from start until every output record is acknowledged (the output topic's end offsets sum to 1M).
 *
 * BENCH_RECORDS overrides the record count (for a quick try; the results file says what was run).
 */

import { Serdes, StreamsBuilder, type Topology } from '../src/index.ts'
import { createProducer } from '../src/kafka/producer.ts'
import { createLogger } from '../src/observe/logger.ts'
import { StreamlaneApp } from '../src/runtime/streamlane-app.ts'
import type { BenchContext, Measured } from './lib/bench-context.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { type CpuReading, startCpuMeter } from './lib/cpu-meter.ts'
import { runRawConsumeProduce } from './lib/raw-loop.ts'
import {
  endOffsetTotal,
  RECORDS_PER_SEND,
  SENDS_IN_FLIGHT,
  sendAll,
  textPayload,
  waitForRecords
} from './lib/records.ts'
import { type Cell, cpuMicrosPerRecord, fixed, integer, markdownTable, ratio } from './lib/table.ts'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const VALUE_SIZE = 100
const PARTITIONS = 6
const WARMUP_RECORDS = 50_000

interface PipelineRun {
  label: string
  records: number
  /** From start (app.start() / creating the clients) until the output holds every record. */
  cpu: CpuReading
  /** Part of the wall time spent before the first record could be processed (group join, assign). */
  startupSeconds: number
  /** Output records beyond the input count (at-least-once duplicates); 0 expected. */
  extraOutputs: number
}

/** The transform both pipelines apply: decode UTF-8, upper-case, encode. */
const transform = (value: string): string => value.toUpperCase()

function topology(input: string, output: string): Topology {
  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.bytes(), valueSerde: Serdes.string() })
    .mapValues(transform)
    .to(output, { keySerde: Serdes.bytes(), valueSerde: Serdes.string() })
  return builder.build()
}

async function createTopic(ctx: BenchContext, prefix: string): Promise<string> {
  const topic = ctx.uniqueName(prefix)
  await ctx.admin.createTopics([{ name: topic, partitions: PARTITIONS }])
  return topic
}

/** An input topic of `records` keyed records (8-digit key, 100-byte lowercase value), spread by key. */
async function produceInput(ctx: BenchContext, records: number): Promise<string> {
  const topic = await createTopic(ctx, 'stateless-in')
  const producer = createProducer({ brokers: ctx.brokers, clientId: 'bench-stateless-input' })
  const values = Array.from({ length: 64 }, (_, i) => textPayload(VALUE_SIZE, i + 1))
  try {
    await sendAll(producer, records, (i) => ({
      topic,
      key: Buffer.from(String(i).padStart(8, '0')),
      value: values[i % values.length]!
    }))
  } finally {
    await producer.close()
  }
  return topic
}

async function finish(
  ctx: BenchContext,
  label: string,
  output: string,
  records: number,
  run: Omit<PipelineRun, 'label' | 'records' | 'extraOutputs'>
): Promise<PipelineRun> {
  const total = await endOffsetTotal(ctx.admin, output)
  return { label, records, ...run, extraOutputs: total - records }
}

async function runStreamlane(ctx: BenchContext, input: string, records: number): Promise<PipelineRun> {
  const output = await createTopic(ctx, 'stateless-out-streamlane')
  const logger = createLogger({ bench: 'stateless' })
  logger.level = 'warn'
  // Defaults otherwise: at-least-once, commit every 5 s, 1,000 records buffered per partition.
  const app = new StreamlaneApp(
    topology(input, output),
    { applicationId: ctx.uniqueName('bench-stateless'), bootstrapServers: ctx.brokers },
    { logger }
  )
  const meter = startCpuMeter(ctx.brokerPid)
  try {
    await app.start()
    const startupSeconds = meter.stop().wallSeconds
    await waitForRecords(ctx.admin, output, records, {
      failed: () => (app.state === 'ERROR' ? (app.error ?? new Error('the app stopped on an error')) : undefined)
    })
    const cpu = meter.stop()
    return await finish(ctx, 'Streamlane app: stream -> mapValues -> to', output, records, { cpu, startupSeconds })
  } finally {
    await app.close()
  }
}

/** The raw client loop doing the same transform (bench/lib/raw-loop.ts). */
async function runRawLoop(ctx: BenchContext, input: string, records: number): Promise<PipelineRun> {
  const output = await createTopic(ctx, 'stateless-out-raw')
  const run = await runRawConsumeProduce(ctx, {
    input,
    output,
    partitions: PARTITIONS,
    records,
    transform: (value) => (value === null ? null : Buffer.from(transform(value.toString('utf8')), 'utf8'))
  })
  return await finish(ctx, 'raw client loop: reader -> same transform -> producer', output, records, run)
}

function row(run: Measured<PipelineRun>): Cell[] {
  const r = run.result
  const other = `${fixed(r.cpu.otherCores ?? Number.NaN)}${run.disturbed ? ' (busy)' : ''}${run.attempts > 1 ? ' (retried)' : ''}`
  return [
    r.label,
    integer(r.records / r.cpu.wallSeconds),
    fixed(r.cpu.ownCpuSeconds),
    cpuMicrosPerRecord(r.cpu.ownCpuSeconds, r.records),
    fixed(r.cpu.wallSeconds),
    fixed(r.startupSeconds),
    integer(r.records / (r.cpu.wallSeconds - r.startupSeconds)),
    fixed(r.cpu.brokerCpuSeconds ?? Number.NaN),
    other
  ]
}

function ratioRow(ours: PipelineRun, raw: PipelineRun): Cell[] {
  const rate = (r: PipelineRun) => r.records / r.cpu.wallSeconds
  const steady = (r: PipelineRun) => r.records / (r.cpu.wallSeconds - r.startupSeconds)
  return [
    '**ratio Streamlane / raw**',
    `**${ratio(rate(ours), rate(raw))}**`,
    `**${ratio(ours.cpu.ownCpuSeconds, raw.cpu.ownCpuSeconds)}**`,
    `**${ratio(ours.cpu.ownCpuSeconds / ours.records, raw.cpu.ownCpuSeconds / raw.records)}**`,
    ratio(ours.cpu.wallSeconds, raw.cpu.wallSeconds),
    '',
    ratio(steady(ours), steady(raw)),
    ratio(ours.cpu.brokerCpuSeconds ?? Number.NaN, raw.cpu.brokerCpuSeconds ?? Number.NaN),
    ''
  ]
}

export const stateless: Benchmark = {
  name: 'stateless',
  description: `single instance, stateless mapValues -> to over ${integer(RECORDS)} x ${VALUE_SIZE}-byte records, vs the raw client loop`,
  resultsFile: 'stateless.md',
  async run(ctx) {
    ctx.log(
      `stateless: producing ${integer(RECORDS)} input records and a ${integer(WARMUP_RECORDS)}-record warm-up topic`
    )
    const input = await produceInput(ctx, RECORDS)
    const warmInput = await produceInput(ctx, WARMUP_RECORDS)
    ctx.log('stateless: warming up both pipelines')
    await runRawLoop(ctx, warmInput, WARMUP_RECORDS)
    await runStreamlane(ctx, warmInput, WARMUP_RECORDS)

    const raw = await ctx.measure('raw client loop', () => runRawLoop(ctx, input, RECORDS))
    const ours = await ctx.measure('Streamlane app', () => runStreamlane(ctx, input, RECORDS))
    const table = markdownTable({
      headers: [
        'pipeline',
        'records/s',
        'CPU s',
        'CPU µs/record',
        'seconds',
        'of which start-up s',
        'records/s after start-up',
        'broker CPU s',
        'other cores'
      ],
      rows: [row(raw), row(ours), ratioRow(ours.result, raw.result)],
      align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right']
    })
    const duplicates = [raw.result, ours.result].filter((r) => r.extraOutputs !== 0)
    return {
      title: `Stateless map -> sink, single instance: Streamlane vs the raw client loop (${integer(RECORDS)} x ${VALUE_SIZE} B)`,
      summary: [
        `Input: ${integer(RECORDS)} records pre-produced into a topic of ${PARTITIONS} partitions (8-byte keys, ${VALUE_SIZE}-byte` +
          ` lowercase ASCII values); output topics of ${PARTITIONS} partitions, a fresh one per pipeline. Both pipelines read` +
          ' the same input, decode each value as UTF-8, upper-case it, encode it and write it with the same key and timestamp.' +
          ' Each is timed from its start until the sum of its output end offsets reaches the input count (checked every 50 ms),' +
          ' i.e. until every output is acknowledged. Ratios are Streamlane / raw: records/s above 1 is faster, CPU above 1 costlier.'
      ],
      tables: [{ heading: 'Results', markdown: table }],
      notes: [
        'Streamlane app: `StreamlaneApp` with `stream(in, bytes keys, string values).mapValues(toUpperCase).to(out)` and the' +
          ' default configuration (at-least-once, commit interval 5 s, 1,000 records buffered per partition); its time' +
          ' includes start() (topic checks, joining its group as the only member, assignment of 6 tasks).',
        'Raw loop: one `createPartitionReader` (read_uncommitted, as the runtime reads under at-least-once) over the 6 input' +
          ` partitions and one \`createProducer\` (idempotent, acks all); ${integer(RECORDS_PER_SEND)} records per send(), up to` +
          ` ${SENDS_IN_FLIGHT} sends unacknowledged. No group, no offset commits, no per-record task or serde machinery:` +
          ' the floor the runtime adds its work to.',
        'CPU s: `process.cpuUsage()` delta of this Node process (all threads); both pipelines run in it, one after the other,' +
          ' after a warm-up of both over 50,000 records. broker CPU s: the broker during the measurement.' +
          ' other cores: average cores busy with other processes on the shared machine during the measurement; "(busy)"' +
          ' marks a run above the threshold even after one retry, "(retried)" one measured twice (the less disturbed shown).',
        duplicates.length === 0
          ? 'Every output topic held exactly the input count afterwards (no duplicates, nothing missing).'
          : `Output counts differed from the input: ${duplicates.map((d) => `${d.label}: ${d.extraOutputs} extra`).join('; ')}.`
      ]
    }
  }
}
