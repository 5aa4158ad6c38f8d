/**
 * Exactly-once v2 against at-least-once on the same workload in the same run: the single-instance stateful count of
 * bench/stateful.ts (1M records, 100k keys, LMDB store, changelog), each guarantee with its default commit interval
 * (5 s at-least-once, 100 ms exactly-once, as Kafka Streams), and each with the other's interval, so the table
 * separates what transactions cost from what a short commit interval costs (the record cache forwards and logs one
 * update per key per commit). Quix Streams reports exactly-once at most 10% slower.
 *
 * BENCH_RECORDS (and BENCH_KEYS, read by bench/stateful.ts) override the record and key counts for a quick try.
 */

import { removeStateDirs } from './lib/app-runs.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { type Cell, integer, markdownTable, ratio } from './lib/table.ts'
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
/** The exactly-once default (as in Kafka Streams); at-least-once defaults to 5 s. */
const SHORT_INTERVAL_MS = 100
const LONG_INTERVAL_MS = 5_000

const processingRate = (r: Run) => r.records / (r.processedSeconds - r.startupSeconds)

function ratioRow(eos: Run, alos: Run, label = 'exactly-once / at-least-once'): Cell[] {
  return [
    `**ratio ${label}**`,
    `**${ratio(rate(eos), rate(alos))}**`,
    `**${ratio(eos.cpu.ownCpuSeconds, alos.cpu.ownCpuSeconds)}**`,
    ratio(eos.cpu.ownCpuSeconds / eos.records, alos.cpu.ownCpuSeconds / alos.records),
    ratio(eos.cpu.wallSeconds, alos.cpu.wallSeconds),
    '',
    '',
    ratio(processingRate(eos), processingRate(alos)),
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
  // Each guarantee at its default interval and at the other's: the ratio at equal intervals is what transactions
  // cost, the ratio of the defaults what a user switching the guarantee sees.
  const alos = await ctx.measure('at-least-once', () => runStreamlane(ctx, input, RECORDS, 'at_least_once'))
  const alosFast = await ctx.measure(`at-least-once, ${SHORT_INTERVAL_MS} ms commits`, () =>
    runStreamlane(ctx, input, RECORDS, 'at_least_once', SHORT_INTERVAL_MS)
  )
  const eos = await ctx.measure('exactly-once', () => runStreamlane(ctx, input, RECORDS, 'exactly_once_v2'))
  const eosSlow = await ctx.measure(`exactly-once, ${LONG_INTERVAL_MS} ms commits`, () =>
    runStreamlane(ctx, input, RECORDS, 'exactly_once_v2', LONG_INTERVAL_MS)
  )
  const short = `${SHORT_INTERVAL_MS} ms`
  const long = `${LONG_INTERVAL_MS / 1000} s`
  const runs = [
    { name: `at-least-once (${long})`, run: alos.result },
    { name: `at-least-once (${short})`, run: alosFast.result },
    { name: `exactly-once (${short})`, run: eos.result },
    { name: `exactly-once (${long})`, run: eosSlow.result }
  ]
  const checks: string[] = []
  for (const { name, run } of runs) checks.push(`${name}: ${await checkCounts(ctx, run.output!, RECORDS)}`)
  const ratios = [
    ratioRow(eos.result, alos.result, `exactly-once / at-least-once, defaults (${short} / ${long})`),
    ratioRow(eos.result, alosFast.result, `exactly-once / at-least-once, both ${short}`),
    ratioRow(eosSlow.result, alos.result, `exactly-once / at-least-once, both ${long}`)
  ]
  const table = markdownTable({
    headers: RESULT_HEADERS,
    rows: [row(alos), row(alosFast), row(eos), row(eosSlow), ...ratios],
    align: RESULT_ALIGN
  })
  const produced = runs.map(({ name, run }) => `${integer(run.outputs)} ${name}`).join(', ')
  const logged = runs.map(({ name, run }) => `${integer(run.changelog)} ${name}`).join(', ')
  return {
    title: `Exactly-once v2 vs at-least-once, stateful count (${integer(RECORDS)} records)`,
    summary: [
      'The same input and topology as the stateful benchmark, run once per guarantee and commit interval, each timed' +
        ' from start() until every input offset is committed (under exactly-once: in a committed transaction).' +
        ` Each guarantee runs at its default commit interval (at-least-once ${LONG_INTERVAL_MS / 1000} s, exactly-once` +
        ` ${SHORT_INTERVAL_MS} ms) and at the other's. Ratios are exactly-once / at-least-once: records/s above 1 is` +
        ' faster, CPU above 1 costlier. "defaults" is what switching the guarantee costs; "both" rows what the' +
        ' transactions cost apart from the commit interval.'
    ],
    tables: [{ heading: 'Results', markdown: table }],
    notes: [
      `Exactly-once: one transactional producer, read_committed, a transaction committed every commit interval with` +
        ' the input offsets (TxnOffsetCommit with the group generation), the LMDB store committed after each' +
        ' transaction. At-least-once: outputs and changelog acknowledged, then the LMDB store, then the offsets.',
      `Output records: ${produced}. Changelog records: ${logged}. The record cache forwards and logs one update per` +
        ' key per commit: with many keys, a short interval forwards and logs far more updates, whatever the guarantee.',
      ...checks
    ]
  }
}
