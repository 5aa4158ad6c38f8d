/**
 * Restoration speed of a 1M-key changelog: a StreamlaneApp keeping the latest 100-byte value per key
 * (`stream(in).groupByKey().reduce((_, v) => v, Materialized.as('latest'))`, LMDB store) is run once over 1M
 * records with distinct keys, which fills `<appId>-latest-changelog` with 1M records, and closed. A fresh instance
 * of the same app with an EMPTY state directory then rebuilds its 6 stores from that changelog before it may
 * process anything; it is timed from start() until every task has restored ('task restored' in its log, with the
 * records, bytes and milliseconds of each task). In the same run the raw partition reader reads the same changelog
 * from the start to its end: the ceiling restoration's reading can reach. Last, the instance is restarted with the
 * SAME state directory: it must restore ~nothing, and its time to running is reported.
 *
 * BENCH_CHANGELOG_KEYS overrides the key count (for a quick try; the results file says what ran).
 */
import { Materialized, Serdes, StreamsBuilder, type Topology } from '../src/index.ts'
import { createProducer } from '../src/kafka/producer.ts'
import type { RestorePlanEntry } from '../src/runtime/state-restorer.ts'
import { StreamlaneApp } from '../src/runtime/streamlane-app.ts'
import {
  capturingLogger,
  freshStateDir,
  otherCell,
  type ReadRun,
  readToEnd,
  removeStateDirs,
  waitForApp
} from './lib/app-runs.ts'
import type { BenchContext, Measured } from './lib/bench-context.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { type CpuReading, startCpuMeter } from './lib/cpu-meter.ts'
import { startCpuProfile } from './lib/cpu-profile.ts'
import { endOffsetTotal, sendAll, textPayload } from './lib/records.ts'
import { type Cell, cpuMicrosPerRecord, fixed, integer, markdownTable, ratio } from './lib/table.ts'

const KEYS = Number(process.env.BENCH_CHANGELOG_KEYS ?? 1_000_000)
const VALUE_SIZE = 100
const PARTITIONS = 6
const WARMUP_KEYS = 50_000
const STORE = 'latest'
const MB = 1024 * 1024

/** A changelog made by running the app once over `keys` distinct keys. */
interface Changelog {
  applicationId: string
  input: string
  topic: string
  records: number
  /** The run that made it: start() until every input record was committed. */
  build: CpuReading
}

interface RestoreRun {
  label: string
  stateDir: string
  /** Changelog records and key + value bytes the tasks restored (from their 'task restored' log lines). */
  records: number
  bytes: number
  /** `app.progress().restored` when every task ran. */
  progressRestored: number
  /** From start() until every task was restored (or, with nothing to restore, start() resolved). */
  cpu: CpuReading
  /** When start() resolved (assignment received, tasks created, restoration planned). */
  startSeconds: number
  /** When the first task began reading its changelog, and how long until the last one finished. */
  restoreStartSeconds: number
  restoreSeconds: number
  tasks: number
  /** Changelog partitions whose checkpoint was already at the changelog's end. */
  upToDate: number
  partitions: number
}

function topology(input: string): Topology {
  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.bytes(), valueSerde: Serdes.bytes() })
    .groupByKey()
    .reduce((_, value) => value, Materialized.as(STORE))
  return builder.build()
}

/** Runs the app over `keys` records with distinct keys (8 ASCII digits, 100-byte values) and closes it. */
async function buildChangelog(ctx: BenchContext, keys: number): Promise<Changelog> {
  const input = ctx.uniqueName('restoration-in')
  await ctx.admin.createTopics([{ name: input, partitions: PARTITIONS }])
  const producer = createProducer({ brokers: ctx.brokers, clientId: 'bench-restoration-input' })
  const values = Array.from({ length: 64 }, (_, i) => textPayload(VALUE_SIZE, i + 1))
  try {
    await sendAll(producer, keys, (i) => ({
      topic: input,
      key: Buffer.from(String(i).padStart(8, '0')),
      value: values[i % values.length]!
    }))
  } finally {
    await producer.close()
  }
  const applicationId = ctx.uniqueName('bench-restoration')
  const { logger } = capturingLogger('restoration', 'warn')
  const app = new StreamlaneApp(
    topology(input),
    { applicationId, bootstrapServers: ctx.brokers, stateDir: freshStateDir('build') },
    { logger }
  )
  const meter = startCpuMeter(ctx.brokerPid)
  let build: CpuReading
  try {
    await app.start()
    await waitForApp(app, 'every input record committed', () => app.progress().committed >= keys)
    build = meter.stop()
  } finally {
    await app.close()
  }
  const topic = `${applicationId}-${STORE}-changelog`
  const records = await endOffsetTotal(ctx.admin, topic)
  if (records !== keys)
    throw new Error(`${topic} holds ${records} records after ${keys} distinct keys, expected ${keys}`)
  return { applicationId, input, topic, records, build }
}

/** Starts an instance on `stateDir` and waits until every task has restored what its plan said it must. */
async function runRestore(
  ctx: BenchContext,
  changelog: Changelog,
  stateDir: string,
  label: string
): Promise<RestoreRun> {
  const { logger, events } = capturingLogger('restoration')
  const app = new StreamlaneApp(
    topology(changelog.input),
    { applicationId: changelog.applicationId, bootstrapServers: ctx.brokers, stateDir },
    { logger }
  )
  const named = (msg: string) => events.filter((e) => e.msg === msg)
  const startedAt = Date.now()
  const profile = await startCpuProfile(`restoration-${label.replace(/\W+/g, '-')}`)
  const meter = startCpuMeter(ctx.brokerPid)
  try {
    await app.start()
    const startSeconds = meter.stop().wallSeconds
    const tasks = app.activeTasks().length
    await waitForApp(app, 'a restore plan per task', () => tasks > 0 && named('restore plan').length >= tasks)
    const planned = named('restore plan').map((e) => e.changelogs as RestorePlanEntry[])
    const plans = planned.flat()
    const restoring = planned.filter((changelogs) => changelogs.some((p) => p.from !== null)).length
    await waitForApp(app, 'every task restored', () => named('task restored').length >= restoring)
    const cpu = meter.stop()
    const profilePath = await profile.stop()
    if (profilePath) ctx.log(`restoration: CPU profile of ${label} in ${profilePath}`)
    const done = named('task restored')
    const sum = (field: string) => done.reduce((total, e) => total + Number(e[field]), 0)
    const firstStart = Math.min(...done.map((e) => e.time - Number(e.ms)))
    const lastEnd = Math.max(...done.map((e) => e.time))
    return {
      label,
      stateDir,
      records: sum('records'),
      bytes: sum('bytes'),
      progressRestored: app.progress().restored,
      cpu,
      startSeconds,
      restoreStartSeconds: done.length > 0 ? (firstStart - startedAt) / 1000 : Number.NaN,
      restoreSeconds: done.length > 0 ? (lastEnd - firstStart) / 1000 : 0,
      tasks,
      upToDate: plans.filter((p) => p.from === null).length,
      partitions: plans.length
    }
  } finally {
    await app.close()
  }
}

const rawRate = (r: ReadRun) => r.records / r.cpu.wallSeconds
const appRate = (r: RestoreRun) => r.records / r.restoreSeconds

function rawRow(run: Measured<ReadRun>): Cell[] {
  const r = run.result
  const seconds = r.cpu.wallSeconds
  return [
    r.label,
    integer(r.records),
    fixed(r.bytes / MB),
    integer(rawRate(r)),
    fixed(r.bytes / MB / seconds),
    fixed(r.cpu.ownCpuSeconds),
    cpuMicrosPerRecord(r.cpu.ownCpuSeconds, r.records),
    fixed(seconds),
    '',
    fixed(seconds),
    fixed(r.cpu.brokerCpuSeconds ?? Number.NaN),
    otherCell(run)
  ]
}

function appRow(run: Measured<RestoreRun>): Cell[] {
  const r = run.result
  return [
    r.label,
    integer(r.records),
    fixed(r.bytes / MB),
    integer(appRate(r)),
    fixed(r.bytes / MB / r.restoreSeconds),
    fixed(r.cpu.ownCpuSeconds),
    cpuMicrosPerRecord(r.cpu.ownCpuSeconds, r.records),
    fixed(r.restoreSeconds),
    fixed(r.restoreStartSeconds),
    fixed(r.cpu.wallSeconds),
    fixed(r.cpu.brokerCpuSeconds ?? Number.NaN),
    otherCell(run)
  ]
}

function ratioRow(ours: RestoreRun, raw: ReadRun, name: string): Cell[] {
  return [
    `**ratio Streamlane / ${name}**`,
    '',
    '',
    `**${ratio(appRate(ours), rawRate(raw))}**`,
    `**${ratio(ours.bytes / ours.restoreSeconds, raw.bytes / raw.cpu.wallSeconds)}**`,
    `**${ratio(ours.cpu.ownCpuSeconds, raw.cpu.ownCpuSeconds)}**`,
    `**${ratio(ours.cpu.ownCpuSeconds / ours.records, raw.cpu.ownCpuSeconds / raw.records)}**`,
    ratio(ours.restoreSeconds, raw.cpu.wallSeconds),
    '',
    ratio(ours.cpu.wallSeconds, raw.cpu.wallSeconds),
    ratio(ours.cpu.brokerCpuSeconds ?? Number.NaN, raw.cpu.brokerCpuSeconds ?? Number.NaN),
    ''
  ]
}

function restartRow(run: Measured<RestoreRun>): Cell[] {
  const r = run.result
  return [
    r.label,
    `${r.upToDate} of ${r.partitions}`,
    integer(r.records),
    integer(r.progressRestored),
    fixed(r.startSeconds),
    fixed(r.cpu.wallSeconds),
    fixed(r.cpu.ownCpuSeconds),
    otherCell(run)
  ]
}

export const restoration: Benchmark = {
  name: 'restoration',
  description: `restoring a ${integer(KEYS)}-key changelog (${VALUE_SIZE}-byte values) into an empty state dir, vs the raw partition reader`,
  resultsFile: 'restoration.md',
  async run(ctx) {
    try {
      ctx.log(`restoration: building a ${integer(WARMUP_KEYS)}-key warm-up changelog and the ${integer(KEYS)}-key one`)
      const warm = await buildChangelog(ctx, WARMUP_KEYS)
      const changelog = await buildChangelog(ctx, KEYS)
      const b = changelog.build
      ctx.log(
        `restoration: the app wrote ${integer(changelog.records)} changelog records in ${fixed(b.wallSeconds)} s ` +
          `(${integer(KEYS / b.wallSeconds)} records/s, ${fixed(b.ownCpuSeconds)} s CPU)`
      )
      ctx.log('restoration: warming up the readers and restoration')
      const restorerSettings = { maxPollRecords: 50_000 }
      const RESTORER_LABEL = "raw partition reader, the restorer's settings"
      const DEFAULT_LABEL = 'raw partition reader, default settings'
      await readToEnd(ctx, warm.topic, RESTORER_LABEL, restorerSettings)
      await readToEnd(ctx, warm.topic, DEFAULT_LABEL)
      await runRestore(ctx, warm, freshStateDir('warm'), 'warm-up')

      const raw = await ctx.measure(RESTORER_LABEL, () =>
        readToEnd(ctx, changelog.topic, RESTORER_LABEL, restorerSettings)
      )
      const rawDefault = await ctx.measure(DEFAULT_LABEL, () => readToEnd(ctx, changelog.topic, DEFAULT_LABEL))
      const fresh = await ctx.measure('Streamlane restoration, empty state dir', () =>
        runRestore(ctx, changelog, freshStateDir('fresh'), 'Streamlane app: restore into an empty state dir')
      )
      const same = await ctx.measure('Streamlane restart, same state dir', () =>
        runRestore(ctx, changelog, fresh.result.stateDir, 'restart with the same state dir')
      )
      for (const run of [raw.result, rawDefault.result]) {
        if (run.records !== changelog.records)
          throw new Error(`${run.label} read ${run.records} of ${changelog.records}`)
      }
      const f = fresh.result
      const s = same.result
      const restoreTable = markdownTable({
        headers: [
          'reader',
          'records',
          'MiB',
          'records/s',
          'MiB/s',
          'CPU s',
          'CPU µs/record',
          'seconds reading',
          'start-up s',
          'seconds to all running',
          'broker CPU s',
          'other cores'
        ],
        rows: [
          rawRow(raw),
          rawRow(rawDefault),
          appRow(fresh),
          ratioRow(f, raw.result, "raw (restorer's settings)"),
          ratioRow(f, rawDefault.result, 'raw (default settings)')
        ],
        align: [
          'left',
          'right',
          'right',
          'right',
          'right',
          'right',
          'right',
          'right',
          'right',
          'right',
          'right',
          'right'
        ]
      })
      const restartTable = markdownTable({
        headers: [
          'start',
          'changelog partitions checkpointed at their end',
          "records restored ('task restored')",
          'progress().restored',
          'start() resolved at s',
          'all tasks running at s',
          'CPU s',
          'other cores'
        ],
        rows: [restartRow(fresh), restartRow(same)],
        align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right']
      })
      return {
        title: `Restoration of a ${integer(KEYS)}-key changelog (${VALUE_SIZE}-byte values): Streamlane vs the raw partition reader`,
        summary: [
          `The changelog: \`${changelog.topic}\`, ${PARTITIONS} partitions, ${integer(changelog.records)} records` +
            ` (8-byte keys, ${VALUE_SIZE}-byte values, ${fixed(f.bytes / MB)} MiB of keys and values), written by the app` +
            ` itself: \`stream(in).groupByKey().reduce((_, v) => v, Materialized.as('${STORE}'))\` (LMDB store, default` +
            ` config) over ${integer(KEYS)} input records with distinct keys, then closed. Making it took` +
            ` ${fixed(b.wallSeconds)} s from start() to every input offset committed (${integer(KEYS / b.wallSeconds)} records/s,` +
            ` ${fixed(b.ownCpuSeconds)} s CPU); that is not a measurement of this benchmark.`,
          '',
          'A new instance of the same app (same application id, so the same group and changelog) starts with an empty' +
            ' state directory: every task reads its changelog partition from the start into its LMDB store before it may' +
            ' process. The raw rows read the same changelog from the start to its end with one partition reader, records' +
            ' and key + value bytes counted and nothing else done with them. Ratios are Streamlane / raw: records/s and' +
            ' MiB/s above 1 are faster, CPU above 1 costlier.'
        ],
        tables: [
          { heading: 'Restoration into an empty state directory', markdown: restoreTable },
          { heading: 'Restart with the same state directory', markdown: restartTable }
        ],
        notes: [
          "Streamlane rows: records, bytes and rates from the app's 'task restored' log lines (one per task: records," +
            ' key + value bytes, ms since its restoration started). seconds reading: from the first task starting its' +
            ' restoration to the last one finishing; records/s and MiB/s are over that span. start-up s: start() until' +
            ' the first task began restoring (topic checks, opening the state directory, joining the group, creating' +
            ' tasks and opening their LMDB environments). seconds to all running: start() until the last task was' +
            ' restored; CPU s covers that whole span (this process, all threads), so its ratio includes start-up.',
          `The restorer reads with its own partition reader (read_uncommitted under at-least-once, record bytes not` +
            ' copied, up to 50,000 records per poll, 1 MiB per partition per fetch) one batch per app loop iteration and' +
            ' hands each 4,000-record chunk of a partition to the restore write thread, which writes them into LMDB in' +
            ' transactions of about 2 MiB while the loop reads on. "raw partition' +
            ' reader, the restorer\'s settings" reads with exactly those reader options; "default settings" with the' +
            " reader's defaults (10,000 records per poll).",
          `Restart with the same state directory: the instance that restored into the empty directory is closed (clean` +
            ' close: checkpoint written) and started again on that directory. Restoration then starts from each' +
            " partition's checkpoint; a partition checkpointed at the changelog's end is not read at all and its task runs" +
            ' at once. all tasks running at s: start() until every task that had anything to restore finished, or start()' +
            ' itself when none had.',
          `${f.records === changelog.records && f.progressRestored === changelog.records ? 'The restoration restored exactly what the changelog holds' : 'THE RESTORATION DID NOT RESTORE WHAT THE CHANGELOG HOLDS'}:` +
            ` ${integer(f.records)} records by the log lines, ${integer(f.progressRestored)} by progress().restored,` +
            ` ${integer(changelog.records)} in the changelog; the same-directory restart restored` +
            ` ${integer(s.progressRestored)}.`,
          'other cores: average cores busy with other processes on the shared machine during the measurement; "(busy)"' +
            ' marks a run above the threshold even after one retry, "(retried)" one measured twice (the less disturbed' +
            ` kept). Each reader and restoration ran once on a ${integer(WARMUP_KEYS)}-key changelog first (warm-up).`
        ]
      }
    } finally {
      removeStateDirs()
    }
  }
}
