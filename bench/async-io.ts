/**
 * Single instance, an asynchronous processor with 5 ms of I/O per record (a call to another service, a timer here)
 * over 12 partitions: the runtime's default, where the instance's tasks run concurrently (one record in flight per
 * task), next to the same app limited to one record in flight per instance (`maxRecordsInFlight: 1`), which is how
 * Streamlane ran such a processor before (one record at a time across all tasks). Same input, same run.
 *
 * BENCH_ASYNC_RECORDS overrides the record count (the results file says what was run).
 */

import { setTimeout as delay } from 'node:timers/promises'
import { type ProcessorContext, Serdes, StreamsBuilder, type Topology } from '../src/index.ts'
import { createProducer } from '../src/kafka/producer.ts'
import { createLogger } from '../src/observe/logger.ts'
import { StreamlaneApp } from '../src/runtime/streamlane-app.ts'
import type { BenchContext, Measured } from './lib/bench-context.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { type CpuReading, startCpuMeter } from './lib/cpu-meter.ts'
import { endOffsetTotal, sendAll, textPayload, waitForRecords } from './lib/records.ts'
import { type Cell, cpuMicrosPerRecord, fixed, integer, markdownTable, ratio } from './lib/table.ts'

const RECORDS = Number(process.env.BENCH_ASYNC_RECORDS ?? 12_000)
const PARTITIONS = 12
const IO_MS = 5

interface AsyncRun {
  label: string
  records: number
  cpu: CpuReading
  startupSeconds: number
  extraOutputs: number
}

function topology(input: string, output: string): Topology {
  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.bytes(), valueSerde: Serdes.string() })
    .process<Buffer, string>(() => {
      let context: ProcessorContext<Buffer, string>
      return {
        init(ctx) {
          context = ctx
        },
        async process(record) {
          await delay(IO_MS)
          await context.forward({ ...record, value: record.value.toUpperCase() })
        }
      }
    })
    .to(output, { keySerde: Serdes.bytes(), valueSerde: Serdes.string() })
  return builder.build()
}

async function produceInput(ctx: BenchContext, records: number): Promise<string> {
  const topic = ctx.uniqueName('async-in')
  await ctx.admin.createTopics([{ name: topic, partitions: PARTITIONS }])
  const producer = createProducer({ brokers: ctx.brokers, clientId: 'bench-async-input' })
  try {
    await sendAll(producer, records, (i) => ({
      topic,
      key: Buffer.from(String(i).padStart(8, '0')),
      value: textPayload(100, i % 64)
    }))
  } finally {
    await producer.close()
  }
  return topic
}

async function runApp(ctx: BenchContext, input: string, label: string, maxRecordsInFlight?: number): Promise<AsyncRun> {
  const output = ctx.uniqueName('async-out')
  await ctx.admin.createTopics([{ name: output, partitions: PARTITIONS }])
  const logger = createLogger({ bench: 'async-io' })
  logger.level = 'warn'
  const app = new StreamlaneApp(
    topology(input, output),
    {
      applicationId: ctx.uniqueName('bench-async'),
      bootstrapServers: ctx.brokers,
      ...(maxRecordsInFlight === undefined ? {} : { maxRecordsInFlight })
    },
    { logger }
  )
  const meter = startCpuMeter(ctx.brokerPid)
  try {
    await app.start()
    const startupSeconds = meter.stop().wallSeconds
    await waitForRecords(ctx.admin, output, RECORDS, {
      failed: () => (app.state === 'ERROR' ? (app.error ?? new Error('the app stopped on an error')) : undefined)
    })
    const cpu = meter.stop()
    const extraOutputs = (await endOffsetTotal(ctx.admin, output)) - RECORDS
    return { label, records: RECORDS, cpu, startupSeconds, extraOutputs }
  } finally {
    await app.close()
  }
}

function row(run: Measured<AsyncRun>): Cell[] {
  const r = run.result
  return [
    r.label,
    integer(r.records / r.cpu.wallSeconds),
    fixed(r.cpu.ownCpuSeconds),
    cpuMicrosPerRecord(r.cpu.ownCpuSeconds, r.records),
    fixed(r.cpu.wallSeconds),
    fixed(r.startupSeconds),
    fixed(r.cpu.otherCores ?? Number.NaN)
  ]
}

export const asyncIo: Benchmark = {
  name: 'async-io',
  description: `single instance, ${PARTITIONS} partitions, an async processor with ${IO_MS} ms of I/O per record, concurrent tasks vs one record at a time`,
  resultsFile: 'async-io.md',
  async run(ctx) {
    ctx.log(`async-io: producing ${integer(RECORDS)} input records`)
    const input = await produceInput(ctx, RECORDS)
    const serial = await ctx.measure('one record in flight', () =>
      runApp(ctx, input, 'one record in flight per instance (maxRecordsInFlight 1)', 1)
    )
    const concurrent = await ctx.measure('concurrent tasks', () =>
      runApp(ctx, input, 'concurrent tasks, one record in flight per task (default)')
    )
    const rate = (r: AsyncRun) => r.records / r.cpu.wallSeconds
    const table = markdownTable({
      headers: ['pipeline', 'records/s', 'CPU s', 'CPU µs/record', 'seconds', 'of which start-up s', 'other cores'],
      rows: [
        row(serial),
        row(concurrent),
        [
          '**ratio concurrent / one at a time**',
          `**${ratio(rate(concurrent.result), rate(serial.result))}**`,
          ratio(concurrent.result.cpu.ownCpuSeconds, serial.result.cpu.ownCpuSeconds),
          '',
          ratio(concurrent.result.cpu.wallSeconds, serial.result.cpu.wallSeconds),
          '',
          ''
        ]
      ],
      align: ['left', 'right', 'right', 'right', 'right', 'right', 'right']
    })
    const extra = [serial.result, concurrent.result].filter((r) => r.extraOutputs !== 0)
    return {
      title: `Asynchronous processor, ${IO_MS} ms of I/O per record, single instance over ${PARTITIONS} partitions (${integer(RECORDS)} records)`,
      summary: [
        `Input: ${integer(RECORDS)} records in a topic of ${PARTITIONS} partitions. The processor awaits a ${IO_MS} ms timer` +
          ' (standing for a call to another service), then forwards the upper-cased value to an output topic of' +
          ` ${PARTITIONS} partitions. Timed from start until every output is acknowledged. One record at a time, the` +
          ` ceiling is 1000 / ${IO_MS} = ${1000 / IO_MS} records/s; with the tasks concurrent, ${PARTITIONS} times that.`
      ],
      tables: [{ heading: 'Results', markdown: table }],
      notes: [
        'Both runs: `StreamlaneApp` with the default configuration (at-least-once, commit interval 5 s); the first with' +
          ' `maxRecordsInFlight: 1`, so one record is in flight at a time over the whole instance, as before tasks ran' +
          ' concurrently.',
        'other cores: average cores busy with other processes on the shared machine during the measurement.',
        extra.length === 0
          ? 'Every output topic held exactly the input count afterwards.'
          : `Output counts differed from the input: ${extra.map((d) => `${d.label}: ${d.extraOutputs} extra`).join('; ')}.`
      ]
    }
  }
}
