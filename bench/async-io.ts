/**
 * Single instance, an asynchronous processor with 5 ms of I/O per record (a call to another service, a timer here)
 * over 12 partitions: the runtime's default, where the instance's tasks run concurrently (one record in flight per
 * task), next to the same app limited to one record in flight per instance (`maxRecordsInFlight: 1`), which is how
 * Streamlane ran such a processor before (one record at a time across all tasks). Same input, same run.
 *
 * Then one partition of many keys: one record at a time (the default, `processingOrder: 'partition'`) next to
 * key-ordered concurrency (`processingOrder: 'key'`, `maxConcurrencyPerTask` 16): records of different keys of the
 * partition in flight together.
 *
 * BENCH_ASYNC_RECORDS and BENCH_ASYNC_KEYED_RECORDS override the record counts (the results file says what was run).
 */

import { setTimeout as delay } from 'node:timers/promises'
import { type ProcessorContext, Serdes, StreamsBuilder, type Topology } from '../src/index.ts'
import { createProducer } from '../src/kafka/producer.ts'
import { createLogger } from '../src/observe/logger.ts'
import type { StreamsConfigInput } from '../src/runtime/config.ts'
import { StreamlaneApp } from '../src/runtime/streamlane-app.ts'
import type { BenchContext, Measured } from './lib/bench-context.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { type CpuReading, startCpuMeter } from './lib/cpu-meter.ts'
import { endOffsetTotal, sendAll, textPayload, waitForRecords } from './lib/records.ts'
import { type Cell, cpuMicrosPerRecord, fixed, integer, markdownTable, ratio } from './lib/table.ts'

const RECORDS = Number(process.env.BENCH_ASYNC_RECORDS ?? 12_000)
const PARTITIONS = 12
const IO_MS = 5
const KEYED_RECORDS = Number(process.env.BENCH_ASYNC_KEYED_RECORDS ?? 4_000)
/** Distinct keys of the one-partition input, each with KEYED_RECORDS / KEYS records to keep in order. */
const KEYS = 500
const KEY_CONCURRENCY = 16

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

async function produceInput(
  ctx: BenchContext,
  records: number,
  partitions = PARTITIONS,
  keys = records
): Promise<string> {
  const topic = ctx.uniqueName('async-in')
  await ctx.admin.createTopics([{ name: topic, partitions }])
  const producer = createProducer({ brokers: ctx.brokers, clientId: 'bench-async-input' })
  try {
    await sendAll(producer, records, (i) => ({
      topic,
      key: Buffer.from(String(i % keys).padStart(8, '0')),
      value: textPayload(100, i % 64)
    }))
  } finally {
    await producer.close()
  }
  return topic
}

type RunSettings = Partial<Pick<StreamsConfigInput, 'maxRecordsInFlight' | 'processingOrder' | 'maxConcurrencyPerTask'>>

async function runApp(
  ctx: BenchContext,
  input: string,
  label: string,
  settings: RunSettings = {},
  records = RECORDS
): Promise<AsyncRun> {
  const output = ctx.uniqueName('async-out')
  await ctx.admin.createTopics([{ name: output, partitions: PARTITIONS }])
  const logger = createLogger({ bench: 'async-io' })
  logger.level = 'warn'
  const app = new StreamlaneApp(
    topology(input, output),
    {
      applicationId: ctx.uniqueName('bench-async'),
      bootstrapServers: ctx.brokers,
      ...settings
    },
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
    const extraOutputs = (await endOffsetTotal(ctx.admin, output)) - records
    return { label, records, cpu, startupSeconds, extraOutputs }
  } finally {
    await app.close()
  }
}

/** Two runs and the ratio of the second to the first. */
function comparisonTable(first: Measured<AsyncRun>, second: Measured<AsyncRun>, ratioLabel: string): string {
  const rate = (r: AsyncRun) => r.records / r.cpu.wallSeconds
  return markdownTable({
    headers: ['pipeline', 'records/s', 'CPU s', 'CPU µs/record', 'seconds', 'of which start-up s', 'other cores'],
    rows: [
      row(first),
      row(second),
      [
        `**ratio ${ratioLabel}**`,
        `**${ratio(rate(second.result), rate(first.result))}**`,
        ratio(second.result.cpu.ownCpuSeconds, first.result.cpu.ownCpuSeconds),
        '',
        ratio(second.result.cpu.wallSeconds, first.result.cpu.wallSeconds),
        '',
        ''
      ]
    ],
    align: ['left', 'right', 'right', 'right', 'right', 'right', 'right']
  })
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
      runApp(ctx, input, 'one record in flight per instance (maxRecordsInFlight 1)', { maxRecordsInFlight: 1 })
    )
    const concurrent = await ctx.measure('concurrent tasks', () =>
      runApp(ctx, input, 'concurrent tasks, one record in flight per task (default)')
    )
    ctx.log(`async-io: producing ${integer(KEYED_RECORDS)} input records to one partition`)
    const keyedInput = await produceInput(ctx, KEYED_RECORDS, 1, KEYS)
    const partitionOrder = await ctx.measure('one partition, one at a time', () =>
      runApp(ctx, keyedInput, "one partition, one record at a time (processingOrder 'partition')", {}, KEYED_RECORDS)
    )
    const keyOrder = await ctx.measure('one partition, key-ordered', () =>
      runApp(
        ctx,
        keyedInput,
        `one partition, key-ordered (processingOrder 'key', maxConcurrencyPerTask ${KEY_CONCURRENCY})`,
        { processingOrder: 'key', maxConcurrencyPerTask: KEY_CONCURRENCY },
        KEYED_RECORDS
      )
    )
    const table = comparisonTable(serial, concurrent, 'concurrent / one at a time')
    const keyedTable = comparisonTable(partitionOrder, keyOrder, 'key-ordered / one at a time')
    const extra = [serial, concurrent, partitionOrder, keyOrder]
      .map((m) => m.result)
      .filter((r) => r.extraOutputs !== 0)
    return {
      title: `Asynchronous processor, ${IO_MS} ms of I/O per record, single instance over ${PARTITIONS} partitions (${integer(RECORDS)} records)`,
      summary: [
        `Input: ${integer(RECORDS)} records in a topic of ${PARTITIONS} partitions. The processor awaits a ${IO_MS} ms timer` +
          ' (standing for a call to another service), then forwards the upper-cased value to an output topic of' +
          ` ${PARTITIONS} partitions. Timed from start until every output is acknowledged. One record at a time, the` +
          ` ceiling is 1000 / ${IO_MS} = ${1000 / IO_MS} records/s; with the tasks concurrent, ${PARTITIONS} times that.`
      ],
      tables: [
        { heading: 'Results', markdown: table },
        {
          heading: `One partition, key-ordered concurrency (${integer(KEYED_RECORDS)} records of ${KEYS} keys)`,
          markdown: keyedTable
        }
      ],
      notes: [
        'The 12-partition runs: `StreamlaneApp` with the default configuration (at-least-once, commit interval 5 s); the first with' +
          ' `maxRecordsInFlight: 1`, so one record is in flight at a time over the whole instance, as before tasks ran' +
          ' concurrently.',
        `One partition: ${integer(KEYED_RECORDS)} records of ${KEYS} keys in a topic of 1 partition, same processor;` +
          ' one record at a time (the default) against key-ordered concurrency, where records of different keys are' +
          ` in flight together (up to ${KEY_CONCURRENCY}) and each key stays in order. The ceiling one at a time is` +
          ` ${1000 / IO_MS} records/s whatever the instance; key-ordered, ${KEY_CONCURRENCY} times that.`,
        'other cores: average cores busy with other processes on the shared machine during the measurement.',
        extra.length === 0
          ? 'Every output topic held exactly the input count afterwards.'
          : `Output counts differed from the input: ${extra.map((d) => `${d.label}: ${d.extraOutputs} extra`).join('; ')}.`
      ]
    }
  }
}
