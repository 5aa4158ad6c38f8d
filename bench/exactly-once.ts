/**
 * Exactly-once v2 against at-least-once on the same workload in the same run: the single-instance stateful count of
 * bench/stateful.ts (1M records, 100k keys, LMDB store, changelog), each guarantee with its default commit interval
 * (5 s at-least-once, 100 ms exactly-once, as Kafka Streams). Quix Streams reports exactly-once at most 10% slower.
 */

import { removeStateDirs } from './lib/app-runs.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { type Cell, fixed, integer, markdownTable, ratio } from './lib/table.ts'
import {
  checkCounts,
  produceInput,
  RESULT_ALIGN,
  RESULT_HEADERS,
  type Run,
  rate,
  row,
  runStreamlane
} from './stateful.ts'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const WARMUP_RECORDS = 50_000

function ratioRow(eos: Run, alos: Run, label = 'exactly-once / at-least-once'): Cell[] {
  return [
    `**ratio ${label}**`,
    `**${ratio(rate(eos), rate(alos))}**`,
    `**${ratio(eos.cpu.ownCpuSeconds, alos.cpu.ownCpuSeconds)}**`,
    ratio(eos.cpu.ownCpuSeconds / eos.records, alos.cpu.ownCpuSeconds / alos.records),
    ratio(eos.cpu.wallSeconds, alos.cpu.wallSeconds),
    '',
    '',
    '',
    ratio(eos.cpu.brokerCpuSeconds ?? Number.NaN, alos.cpu.brokerCpuSeconds ?? Number.NaN),
    ''
  ]
}

export const exactlyOnce: Benchmark = {
  name: 'exactly-once',
  description: `stateful count under exactly_once_v2 vs at_least_once, ${integer(RECORDS)} records, same run`,
  resultsFile: 'exactly-once.md',
  async run(ctx) {
    try {
      return await measure(ctx)
    } finally {
      removeStateDirs()
    }
  }
}

async function measure(ctx: Parameters<Benchmark['run']>[0]) {
  const input = await produceInput(ctx, RECORDS)
  const warm = await produceInput(ctx, WARMUP_RECORDS)
  ctx.log('exactly-once: warming up both guarantees')
  await runStreamlane(ctx, warm, WARMUP_RECORDS, 'at_least_once')
  await runStreamlane(ctx, warm, WARMUP_RECORDS, 'exactly_once_v2')
  const alos = await ctx.measure('at-least-once', () => runStreamlane(ctx, input, RECORDS, 'at_least_once'))
  const eos = await ctx.measure('exactly-once', () => runStreamlane(ctx, input, RECORDS, 'exactly_once_v2'))
  // The same commit interval as at-least-once: what transactions cost, apart from committing 50 times as often.
  const eosSlow = await ctx.measure('exactly-once, 5 s commits', () =>
    runStreamlane(ctx, input, RECORDS, 'exactly_once_v2', 5_000)
  )
  const checks = [
    await checkCounts(ctx, alos.result.output!, RECORDS),
    await checkCounts(ctx, eos.result.output!, RECORDS)
  ]
  const table = markdownTable({
    headers: RESULT_HEADERS,
    rows: [
      row(alos),
      row(eos),
      row(eosSlow),
      ratioRow(eos.result, alos.result, 'exactly-once (100 ms) / at-least-once'),
      ratioRow(eosSlow.result, alos.result, 'exactly-once (5 s) / at-least-once')
    ],
    align: RESULT_ALIGN
  })
  return {
    title: `Exactly-once v2 vs at-least-once, stateful count (${integer(RECORDS)} records)`,
    summary: [
      'The same input and topology as the stateful benchmark, run once per guarantee, each timed from start() until' +
        ' every input offset is committed (under exactly-once: in a committed transaction). Ratios are exactly-once /' +
        ' at-least-once: records/s above 1 is faster, CPU above 1 costlier.'
    ],
    tables: [{ heading: 'Results', markdown: table }],
    notes: [
      'Exactly-once: one transactional producer, read_committed, a transaction committed every 100 ms with the input' +
        ' offsets (TxnOffsetCommit with the group generation), the LMDB store committed after each transaction.' +
        ` Output records: ${integer(alos.result.outputs)} at-least-once, ${integer(eos.result.outputs)} exactly-once` +
        ' (the record cache forwards one update per key per commit, and exactly-once commits 50 times as often).',
      `Changelog records: ${integer(alos.result.changelog)} at-least-once, ${integer(eos.result.changelog)} exactly-once,` +
        ` ${integer(eosSlow.result.changelog)} exactly-once with 5 s commits. With 100k keys, the 100 ms commit interval` +
        ' (the default under exactly-once, as in Kafka Streams) makes the record cache forward and log far more updates;' +
        ' the 5 s row isolates what the transactions themselves cost.' +
        ` Seconds: ${fixed(alos.result.cpu.wallSeconds)} and ${fixed(eos.result.cpu.wallSeconds)}.`,
      ...checks
    ]
  }
}
