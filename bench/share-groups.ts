/**
 * The seed scenario of share groups (docs/share-groups.md): 10 partitions, 600 records of 1 s asynchronous work,
 * under the local autoscaler with the same policy and the same maximum of 30 instances, once on a consumer group
 * (today's path: an instance runs its tasks concurrently, one record in flight per partition, so 10 partitions cap
 * the group at 10 records/s whatever the instance count) and once on a share group (one record at a time per
 * instance, any number of instances on the same partitions). Workers are `streamlane run
 * test/integration/runtime/fixtures/slow-app.ts` (the tests' slow app, SHARE_GROUP=1 for the share group) processes
 * started and stopped by the scaler, as `streamlane autoscale --local` runs them.
 *
 * Reported per run: drain time (scaler start to every record's output written), replica-seconds (workers alive,
 * summed over that time), the most workers, membership changes (worker starts and stops: each one a rebalance for
 * the consumer group, none stops work in the share group), replays (records written more than once) and lost records.
 *
 * BENCH_SHARE_RECORDS, BENCH_SHARE_WORK_MS and BENCH_SHARE_MAX override the scenario (the results file says what ran).
 */

import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { type LocalScaler, startLocalScaler } from '../src/autoscale/local/local-scaler.ts'
import { createPartitionReader, OFFSET_EARLIEST } from '../src/kafka/partition-reader.ts'
import { createProducer } from '../src/kafka/producer.ts'
import type { BenchContext } from './lib/bench-context.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { fixed, integer, markdownTable, ratio } from './lib/table.ts'

const RECORDS = Number(process.env.BENCH_SHARE_RECORDS ?? 600)
const WORK_MS = Number(process.env.BENCH_SHARE_WORK_MS ?? 1_000)
const MAX = Number(process.env.BENCH_SHARE_MAX ?? 30)
const PARTITIONS = 10
/** The policy both runs get: drain the backlog within 15 s (so 30 instances are worth having), decide every second. */
const POLICY = { minReplicas: 1, maxReplicas: MAX, lagDrainTargetSeconds: 15 }
const BIN = fileURLToPath(new URL('../bin/streamlane.js', import.meta.url))
const APP = fileURLToPath(new URL('../test/integration/runtime/fixtures/slow-app.ts', import.meta.url))
const DRAIN_DEADLINE_MS = 300_000

type GroupType = 'consumer' | 'share'

/** The runs: the consumer group, and the share group with one and with ten records in flight per instance. */
const RUNS: { label: string; groupType: GroupType; concurrency: number }[] = [
  { label: 'consumer group (10 tasks per instance at most)', groupType: 'consumer', concurrency: 0 },
  { label: 'share group, concurrency 1', groupType: 'share', concurrency: 1 },
  { label: 'share group, concurrency 10', groupType: 'share', concurrency: 10 }
]

interface Run {
  label: string
  groupType: GroupType
  /** Seconds from the scaler start until the most workers were alive. */
  toMostWorkersSeconds: number
  drainSeconds: number
  replicaSeconds: number
  maxWorkers: number
  membershipChanges: number
  replays: number
  lost: number
  /** Output records written until the drain (replays included). */
  outputs: number
}

async function produce(ctx: BenchContext, topic: string): Promise<void> {
  const producer = createProducer({ brokers: ctx.brokers, clientId: 'bench-share-producer' })
  try {
    const records = Array.from({ length: RECORDS }, (_, i) => ({
      topic,
      partition: i % PARTITIONS,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(String(i))
    }))
    await producer.send(records)
  } finally {
    await producer.close()
  }
}

async function scenario(ctx: BenchContext, spec: (typeof RUNS)[number]): Promise<Run> {
  const { groupType } = spec
  const input = ctx.uniqueName(`share-bench-${groupType}-in`)
  const output = ctx.uniqueName(`share-bench-${groupType}-out`)
  const group = ctx.uniqueName(`share-bench-${groupType}`)
  await ctx.admin.createTopics([
    { name: input, partitions: PARTITIONS },
    { name: output, partitions: 1 }
  ])
  await produce(ctx, input)
  const reader = createPartitionReader({ brokers: ctx.brokers, copyBuffers: true })
  await reader.assign([{ topic: output, partition: 0, offset: OFFSET_EARLIEST }])
  const started = Date.now()
  const scaler: LocalScaler = await startLocalScaler(
    {
      groupId: group,
      topics: [input],
      groupType,
      brokers: ctx.brokers,
      command: process.execPath,
      args: [BIN, 'run', APP],
      intervalMs: 1_000,
      graceMs: 30_000,
      rateWindowMs: 10_000,
      output: 'ignore',
      policy: POLICY
    },
    {
      env: {
        ...process.env,
        STREAMLANE_APPLICATION_ID: group,
        STREAMLANE_LOG_LEVEL: 'warn',
        INPUT_TOPIC: input,
        OUTPUT_TOPIC: output,
        PER_RECORD_MS: String(WORK_MS),
        SHARE_GROUP: groupType === 'share' ? '1' : '0',
        SHARE_CONCURRENCY: String(spec.concurrency)
      }
    }
  )
  const counts = new Map<string, number>()
  let outputs = 0
  let replicaMs = 0
  let maxWorkers = 0
  const seen = new Set<string>()
  let last = Date.now()
  let drainSeconds = 0
  let toMostWorkersMs = 0
  try {
    while (counts.size < RECORDS) {
      if (Date.now() - started > DRAIN_DEADLINE_MS) {
        throw new Error(`${groupType}: ${counts.size} of ${RECORDS} records written after ${DRAIN_DEADLINE_MS} ms`)
      }
      for (const record of await reader.poll(250)) {
        const value = record.value!.toString().split(' ')[0]!
        counts.set(value, (counts.get(value) ?? 0) + 1)
        outputs++
      }
      const now = Date.now()
      const workers = scaler.status().workers
      const alive = workers.filter((w) => w.phase !== 'exited')
      replicaMs += alive.length * (now - last)
      last = now
      if (alive.length > maxWorkers) toMostWorkersMs = now - started
      maxWorkers = Math.max(maxWorkers, alive.length)
      for (const w of workers) seen.add(`${w.slot}:${w.incarnation}:${w.phase === 'stopping' ? 'stop' : 'run'}`)
    }
    drainSeconds = (Date.now() - started) / 1000
  } finally {
    await scaler.stop('benchmark done')
    await reader.close()
    await ctx.admin.deleteTopics([input, output], { ifExists: true })
  }
  let replays = 0
  for (const n of counts.values()) replays += n - 1
  return {
    label: spec.label,
    groupType,
    toMostWorkersSeconds: toMostWorkersMs / 1000,
    drainSeconds,
    replicaSeconds: replicaMs / 1000,
    maxWorkers,
    membershipChanges: seen.size,
    replays,
    lost: RECORDS - counts.size,
    outputs
  }
}

export const shareGroups: Benchmark = {
  name: 'share-groups',
  description: `${RECORDS} records of ${WORK_MS} ms on ${PARTITIONS} partitions, local autoscaler max ${MAX}: consumer group vs share group`,
  resultsFile: 'share-groups.md',
  async run(ctx) {
    const runs: Run[] = []
    for (const spec of RUNS) {
      ctx.log(`${spec.label}: ${RECORDS} records of ${WORK_MS} ms, max ${MAX} instances`)
      runs.push(await scenario(ctx, spec))
      ctx.log(`${spec.label} drained in ${fixed(runs.at(-1)!.drainSeconds, 1)} s`)
      await delay(1_000)
    }
    const [consumer, share1, share10] = runs as [Run, Run, Run]
    return {
      title: 'Share groups: the slow-work seed scenario under the local autoscaler',
      summary: [
        `${RECORDS} records of ${WORK_MS} ms asynchronous work on ${PARTITIONS} partitions, \`streamlane autoscale --local\`'s ` +
          `scaler (startLocalScaler) with --min 1 --max ${MAX}, --lag-drain-target-seconds 15, --interval-ms 1000, ` +
          'workers `streamlane run test/integration/runtime/fixtures/slow-app.ts`. Consumer group: at-least-once, tasks concurrent (one record in ' +
          'flight per partition, so at most 10 in the whole group). Share group: shareGroup.concurrency 1 or 10 records ' +
          'in flight per instance, lock 15 s.',
        'Drain: from the scaler start until every record has its output. Replica-seconds: live workers summed over that ' +
          'time. Membership changes: worker starts and stops (each one a rebalance of the consumer group; in the share ' +
          'group a member joins or leaves without stopping the others).'
      ],
      tables: [
        {
          heading: 'Results',
          markdown: markdownTable({
            headers: [
              'run',
              'drain (s)',
              'replica-seconds',
              'most workers',
              'reached at (s)',
              'membership changes',
              'replays',
              'lost'
            ],
            rows: runs.map((r) => [
              r.label,
              fixed(r.drainSeconds, 1),
              integer(r.replicaSeconds),
              r.maxWorkers,
              fixed(r.toMostWorkersSeconds, 1),
              r.membershipChanges,
              r.replays,
              r.lost
            ]),
            align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right']
          })
        }
      ],
      notes: [
        `Drain time relative to the consumer group: share group concurrency 1 ${ratio(share1.drainSeconds, consumer.drainSeconds)}, ` +
          `concurrency 10 ${ratio(share10.drainSeconds, consumer.drainSeconds)} (below 1x is faster).`,
        'The machine has 2 cores: every worker is a Node process that loads Streamlane from TypeScript sources (seconds ' +
          'of CPU each), so starting 30 of them at once takes most of a concurrency-1 run; on real nodes each pod starts ' +
          'on its own CPU.',
        'Replays are records written more than once; records of a killed instance would come back after the lock ' +
          '(not exercised here: every worker stopped gracefully).'
      ]
    }
  }
}
