/**
 * Joins, single instance, Streamlane next to Kafka Streams in the same run on the same broker and input: a
 * stream-table join (orders keyed by customer joined to a customers table) and a stream-stream join (orders and
 * payments keyed by order id, within 10 minutes). Each app is timed from its start until its group has committed
 * every input record; Streamlane runs in this process (its CPU from `process.cpuUsage`), Kafka Streams as a JVM child
 * (conformance/kafka-streams' JoinBench, its CPU from /proc). Both with a 5 s commit interval, at-least-once, default
 * stores (Streamlane: LMDB; Kafka Streams: RocksDB), logged.
 *
 * BENCH_JOIN_RECORDS and BENCH_JOIN_KEYS override the order and customer counts (for a quick try).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JoinWindows, Materialized, Serdes, StreamsBuilder, type Topology } from '../src/index.ts'
import { createProducer } from '../src/kafka/producer.ts'
import { StreamlaneApp } from '../src/runtime/streamlane-app.ts'
import { kafkaStreamsClasspath } from '../test/conformance/kafka-streams-peer.ts'
import { capturingLogger, freshStateDir, otherCell, removeStateDirs, waitForApp } from './lib/app-runs.ts'
import type { BenchContext, Measured } from './lib/bench-context.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { type CpuReading, processCpuSeconds, startCpuMeter } from './lib/cpu-meter.ts'
import { endOffsetTotal, sendAll, textPayload } from './lib/records.ts'
import { type Cell, cpuMicrosPerRecord, fixed, integer, markdownTable, ratio } from './lib/table.ts'

const ORDERS = Number(process.env.BENCH_JOIN_RECORDS ?? 300_000)
const CUSTOMERS = Number(process.env.BENCH_JOIN_KEYS ?? 10_000)
const WARMUP_ORDERS = 20_000
const VALUE_SIZE = 100
const PARTITIONS = 6
const COMMIT_INTERVAL_MS = 5_000
const WINDOW_MS = 600_000
const GRACE_MS = 60_000

type Kind = 'stream-table' | 'stream-stream'

interface Input {
  kind: Kind
  /** orders (keyed by customer for stream-table, by order id for stream-stream) */
  left: string
  /** customers (the table) or payments */
  right: string
  /** Input records in all: what the group must commit. */
  records: number
  /** Joined records expected out. */
  joins: number
}

interface Run {
  label: string
  records: number
  cpu: CpuReading
  /** This process or the JVM: CPU seconds of the app alone. */
  appCpuSeconds: number
  startupSeconds: number
  outputs: number
}

const concat = (left: Buffer, right: Buffer): Buffer => Buffer.concat([left, right])
const bytes = { keySerde: Serdes.bytes(), valueSerde: Serdes.bytes() }

function topology(input: Input, output: string): Topology {
  const builder = new StreamsBuilder()
  const left = builder.stream(input.left, bytes)
  if (input.kind === 'stream-table') {
    left.join(builder.table(input.right, bytes, Materialized.as('table')), concat).to(output, bytes)
  } else {
    left
      .join(builder.stream(input.right, bytes), concat, JoinWindows.ofTimeDifferenceAndGrace(WINDOW_MS, GRACE_MS), {
        storeName: 'join',
        keySerde: Serdes.bytes(),
        valueSerde: Serdes.bytes(),
        otherValueSerde: Serdes.bytes()
      })
      .to(output, bytes)
  }
  return builder.build()
}

async function topic(ctx: BenchContext, prefix: string): Promise<string> {
  const name = ctx.uniqueName(prefix)
  await ctx.admin.createTopics([{ name, partitions: PARTITIONS }])
  return name
}

/**
 * Stream-table: the customers first (timestamped an hour before the orders, so both apps find them when the orders
 * come), then `orders` orders keyed by customer. Stream-stream: orders and their payments keyed by order id, each
 * payment 1 ms after its order.
 */
async function produceInput(ctx: BenchContext, kind: Kind, orders: number): Promise<Input> {
  const left = await topic(ctx, `join-${kind}-orders`)
  const right = await topic(ctx, `join-${kind}-${kind === 'stream-table' ? 'customers' : 'payments'}`)
  const producer = createProducer({ brokers: ctx.brokers, clientId: 'bench-join-input' })
  const values = Array.from({ length: 64 }, (_, i) => textPayload(VALUE_SIZE, i + 1))
  const start = Date.now() - 3_600_000
  const id = (i: number) => Buffer.from(String(i).padStart(8, '0'))
  try {
    if (kind === 'stream-table') {
      await sendAll(producer, CUSTOMERS, (i) => ({
        topic: right,
        key: id(i),
        value: values[i % 64]!,
        timestamp: start - 3_600_000
      }))
      await sendAll(producer, orders, (i) => ({
        topic: left,
        key: id(i % CUSTOMERS),
        value: values[i % 64]!,
        timestamp: start + i
      }))
      return { kind, left, right, records: CUSTOMERS + orders, joins: orders }
    }
    await sendAll(producer, orders, (i) => ({ topic: left, key: id(i), value: values[i % 64]!, timestamp: start + i }))
    await sendAll(producer, orders, (i) => ({
      topic: right,
      key: id(i),
      value: values[(i + 7) % 64]!,
      timestamp: start + i + 1
    }))
    return { kind, left, right, records: 2 * orders, joins: orders }
  } finally {
    await producer.close()
  }
}

async function runStreamlane(ctx: BenchContext, input: Input): Promise<Run> {
  const output = await topic(ctx, `join-${input.kind}-out`)
  const { logger } = capturingLogger('joins', 'warn')
  const app = new StreamlaneApp(
    topology(input, output),
    {
      applicationId: ctx.uniqueName(`bench-join-${input.kind}`),
      bootstrapServers: ctx.brokers,
      stateDir: freshStateDir('joins'),
      commitIntervalMs: COMMIT_INTERVAL_MS
    },
    { logger }
  )
  const meter = startCpuMeter(ctx.brokerPid)
  let startupSeconds: number
  let cpu: CpuReading
  try {
    await app.start()
    startupSeconds = meter.stop().wallSeconds
    await waitForApp(app, 'every input record committed', () => app.progress().committed >= input.records)
    cpu = meter.stop()
  } finally {
    await app.close()
  }
  return {
    label: `Streamlane: ${input.kind} join`,
    records: input.records,
    cpu,
    appCpuSeconds: cpu.ownCpuSeconds,
    startupSeconds,
    outputs: await endOffsetTotal(ctx.admin, output)
  }
}

async function committed(ctx: BenchContext, group: string, topics: string[]): Promise<number> {
  const offsets = await ctx.admin.fetchGroupOffsets(group, topics)
  return offsets.reduce((sum, o) => sum + (o.offset > 0n ? Number(o.offset) : 0), 0)
}

async function runKafkaStreams(ctx: BenchContext, input: Input): Promise<Run> {
  const output = await topic(ctx, `join-${input.kind}-out-ks`)
  const group = ctx.uniqueName(`bench-join-ks-${input.kind}`)
  const stateDir = mkdtempSync(join(tmpdir(), 'streamlane-bench-kafka-streams-'))
  const classpath = kafkaStreamsClasspath()
  const meter = startCpuMeter(ctx.brokerPid)
  const args = [ctx.bootstrap, group, stateDir, input.kind, input.left, input.right, output]
  const child: ChildProcess = spawn(
    'java',
    [
      '-Xmx1g',
      '-cp',
      classpath,
      'dev.streamlane.conformance.JoinBench',
      ...args,
      String(COMMIT_INTERVAL_MS),
      String(WINDOW_MS),
      String(GRACE_MS)
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let log = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000)
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  let jvmCpu = 0
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('running')) resolve()
      })
      void exited.then((code) => reject(new Error(`Kafka Streams exited with ${code} before running:\n${log}`)))
    })
    const startupSeconds = meter.stop().wallSeconds
    const deadline = Date.now() + 600_000
    for (;;) {
      jvmCpu = processCpuSeconds(child.pid!) ?? jvmCpu
      if ((await committed(ctx, group, [input.left, input.right])) >= input.records) break
      if (Date.now() > deadline) throw new Error(`Kafka Streams did not commit every input record in 10 minutes`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const cpu = meter.stop(jvmCpu)
    return {
      label: `Kafka Streams: ${input.kind} join`,
      records: input.records,
      cpu,
      appCpuSeconds: jvmCpu,
      startupSeconds,
      outputs: await endOffsetTotal(ctx.admin, output)
    }
  } finally {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(timer)
    rmSync(stateDir, { recursive: true, force: true })
  }
}

const rate = (r: Run) => r.records / r.cpu.wallSeconds
const processingRate = (r: Run) => r.records / (r.cpu.wallSeconds - r.startupSeconds)

const HEADERS = [
  'pipeline',
  'records/s',
  'app CPU s',
  'CPU µs/record',
  'seconds',
  'of which start-up s',
  'records/s after start-up',
  'joined out',
  'broker CPU s',
  'other cores'
]

function row(run: Measured<Run>): Cell[] {
  const r = run.result
  return [
    r.label,
    integer(rate(r)),
    fixed(r.appCpuSeconds),
    cpuMicrosPerRecord(r.appCpuSeconds, r.records),
    fixed(r.cpu.wallSeconds),
    fixed(r.startupSeconds),
    integer(processingRate(r)),
    integer(r.outputs),
    fixed(r.cpu.brokerCpuSeconds ?? Number.NaN),
    otherCell(run)
  ]
}

function ratioRow(ours: Run, theirs: Run): Cell[] {
  return [
    '**ratio Streamlane / Kafka Streams**',
    `**${ratio(rate(ours), rate(theirs))}**`,
    ratio(ours.appCpuSeconds, theirs.appCpuSeconds),
    `**${ratio(ours.appCpuSeconds / ours.records, theirs.appCpuSeconds / theirs.records)}**`,
    ratio(ours.cpu.wallSeconds, theirs.cpu.wallSeconds),
    '',
    ratio(processingRate(ours), processingRate(theirs)),
    '',
    ratio(ours.cpu.brokerCpuSeconds ?? Number.NaN, theirs.cpu.brokerCpuSeconds ?? Number.NaN),
    ''
  ]
}

export const joins: Benchmark = {
  name: 'joins',
  description: `stream-table and stream-stream joins, ${integer(ORDERS)} orders, Streamlane vs Kafka Streams in the same run`,
  resultsFile: 'joins.md',
  async run(ctx) {
    try {
      const rows: Cell[][] = []
      const notes: string[] = []
      ctx.log('joins: building the Kafka Streams peer (conformance/kafka-streams, once)')
      kafkaStreamsClasspath()
      for (const kind of ['stream-table', 'stream-stream'] as const) {
        ctx.log(`joins: ${kind}: producing the input and a warm-up`)
        const input = await produceInput(ctx, kind, ORDERS)
        const warm = await produceInput(ctx, kind, WARMUP_ORDERS)
        await runStreamlane(ctx, warm)
        await runKafkaStreams(ctx, warm)
        const ours = await ctx.measure(`Streamlane ${kind}`, () => runStreamlane(ctx, input))
        const theirs = await ctx.measure(`Kafka Streams ${kind}`, () => runKafkaStreams(ctx, input))
        rows.push(row(ours), row(theirs), ratioRow(ours.result, theirs.result))
        notes.push(
          `${kind}: ${integer(input.records)} input records, ${integer(input.joins)} joins expected; Streamlane wrote` +
            ` ${integer(ours.result.outputs)}, Kafka Streams ${integer(theirs.result.outputs)}.`
        )
      }
      const align: ('left' | 'right')[] = ['left', ...HEADERS.slice(1).map(() => 'right' as const)]
      return {
        title: `Joins, single instance: Streamlane vs Kafka Streams (${integer(ORDERS)} orders x ${VALUE_SIZE} B)`,
        summary: [
          `Stream-table: ${integer(CUSTOMERS)} customers (the table, produced first and timestamped before every order),` +
            ` then ${integer(ORDERS)} orders keyed by customer, each joined with its customer. Stream-stream:` +
            ` ${integer(ORDERS)} orders and ${integer(ORDERS)} payments keyed by order id (payment 1 ms after its order),` +
            ` joined within 10 minutes (1 minute grace). Topics of ${PARTITIONS} partitions, ${VALUE_SIZE}-byte values,` +
            ' byte serdes; the joiner concatenates the two values. Each app is timed from its start until its group has' +
            ' committed every input record (both sides). Ratios are Streamlane / Kafka Streams: records/s above 1 is' +
            ' faster, CPU above 1 costlier.'
        ],
        tables: [{ heading: 'Results', markdown: markdownTable({ headers: HEADERS, rows, align }) }],
        notes: [
          `Both at-least-once, commit interval ${COMMIT_INTERVAL_MS / 1000} s (Kafka Streams' default is 30 s; both set` +
            " to Streamlane's), default stores and caches: Streamlane LMDB stores and a 10 MiB record cache per task," +
            ' Kafka Streams RocksDB and its default cache, changelogs on; a fresh state directory per run.',
          'Streamlane runs in this Node process (app CPU: `process.cpuUsage()`, all threads). Kafka Streams runs as a' +
            ' JVM (-Xmx1g, one stream thread) started by the benchmark (app CPU: its /proc utime + stime, JIT and GC' +
            ' included); its start-up includes the JVM start. records/s after start-up excludes start-up on both sides.',
          'Each pipeline runs once over a warm-up input first. other cores: average cores busy with other processes on' +
            ' the shared machine; "(busy)" marks a run above the threshold even after one retry.',
          ...notes
        ]
      }
    } finally {
      removeStateDirs()
    }
  }
}
