/**
 * Issue 14's handover benchmark: what a stateful app's input sees when its tasks move, with high availability
 * (warm-ups, probing rebalances, 1 standby replica) and without (Kafka Streams' sticky behaviour before KIP-441:
 * tasks move at once and their new owner restores the changelog while their input stands still).
 *
 * The app counts records per key (test/integration/runtime/fixtures/count-app.ts: LMDB store with a changelog,
 * cache 0 so every update reaches the changelog), over 12 input partitions, each instance its own OS process run
 * with `streamlane run`. The state is built first (every key once), then input flows at a steady rate while:
 *
 * - pod loss: one of 3 instances is SIGKILLed (session timeout 6 s);
 * - scale-in: one of 3 instances gets SIGTERM (it commits, hands over and leaves);
 * - scale-out: 2 instances join one that holds all the state.
 *
 * Measured from the event on: the longest time any input partition had records waiting and did not progress
 * (sampled from the group's committed offsets every 100 ms), changelog records restored by active tasks before they
 * could process (the critical path: warm-ups and standbys restore off it), the largest such restore of one task,
 * the time until the group is balanced again (every task active somewhere, no warm-up in flight, each instance
 * within one task of its share), and the CPU the instances used in that time. Last, every key's final count is
 * checked against the input (at-least-once: never below it).
 *
 * For the pod loss, a timeline says where the pause went (bench/lib/handover-timeline.ts): the broker expiring the
 * member, the survivors hearing of the rebalance, join and sync, the promotion, the tasks starting, the first commit.
 * The instances run with the product's heartbeat default (a fifteenth of the session timeout).
 *
 * BENCH_HANDOVER_KEYS (default 200,000) and BENCH_HANDOVER_SCALE_OUT_KEYS (default 1,000,000) set the state sizes,
 * BENCH_HANDOVER_RATE (default 2,000 records/s) the steady input; `--scenarios=pod-loss,scale-in,scale-out` and
 * `--modes=ha,none` select what runs (e.g. `npm run bench -- handover --scenarios=pod-loss`).
 */
import { fileURLToPath } from 'node:url'
import { createProducer } from '../src/kafka/producer.ts'
import { AppInstance, killAll } from '../test/integration/runtime/instances.ts'
import { activeTasks, logLines } from '../test/integration/runtime/standby-support.ts'
import { freshStateDir, readToEnd, removeStateDirs } from './lib/app-runs.ts'
import { parseBenchArgs } from './lib/args.ts'
import type { BenchContext } from './lib/bench-context.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { processCpuSeconds } from './lib/cpu-meter.ts'
import { balanced } from './lib/handover-balance.ts'
import { handoverTimeline, type TimelineStep } from './lib/handover-timeline.ts'
import { PartitionPauseMonitor } from './lib/partition-pauses.ts'
import { sendAll } from './lib/records.ts'
import { fixed, integer, markdownTable } from './lib/table.ts'

const KEYS = Number(process.env.BENCH_HANDOVER_KEYS ?? 200_000)
const SCALE_OUT_KEYS = Number(process.env.BENCH_HANDOVER_SCALE_OUT_KEYS ?? 1_000_000)
const RATE = Number(process.env.BENCH_HANDOVER_RATE ?? 2_000)
const PARTITIONS = 12
const SESSION_TIMEOUT_MS = 6_000
const ACCEPTABLE_RECOVERY_LAG = 10_000
const module = fileURLToPath(new URL('../test/integration/runtime/fixtures/count-app.ts', import.meta.url))

interface Mode {
  /** What `--modes=` selects. */
  id: string
  label: string
  env: Record<string, string>
}

const MODES: Mode[] = [
  {
    id: 'ha',
    label: 'high availability, 1 standby',
    env: { STREAMLANE_HIGH_AVAILABILITY: 'true', STREAMLANE_NUM_STANDBY_REPLICAS: '1' }
  },
  {
    id: 'none',
    label: 'no high availability, no standby',
    env: { STREAMLANE_HIGH_AVAILABILITY: 'false', STREAMLANE_NUM_STANDBY_REPLICAS: '0' }
  }
]

interface Scenario {
  /** What `--scenarios=` selects. */
  id: string
  label: string
  keys: number
  instancesBefore: number
  instancesAfter: number
  /** Does the event; returns the instances still running after it. */
  event(instances: AppInstance[], start: () => AppInstance): Promise<AppInstance[]>
}

/** One of 3 instances stops on `signal` (SIGKILL: a pod lost; SIGTERM: scale-in, it commits and hands over). */
function oneOfThreeStops(id: string, label: string, signal: NodeJS.Signals): Scenario {
  return {
    id,
    label,
    keys: KEYS,
    instancesBefore: 3,
    instancesAfter: 2,
    async event(instances) {
      instances[0]!.signal(signal)
      await instances[0]!.exited
      return instances.slice(1)
    }
  }
}

const SCENARIOS: Scenario[] = [
  oneOfThreeStops('pod-loss', 'pod loss (SIGKILL 1 of 3)', 'SIGKILL'),
  oneOfThreeStops('scale-in', 'scale-in (SIGTERM 1 of 3)', 'SIGTERM'),
  {
    id: 'scale-out',
    label: 'scale-out (1 -> 3)',
    keys: SCALE_OUT_KEYS,
    instancesBefore: 1,
    instancesAfter: 3,
    async event(instances, start) {
      return [...instances, start(), start()]
    }
  }
]

interface Run {
  scenario: string
  mode: string
  keys: number
  longestPauseMs: number
  restored: number
  largestTaskRestore: number
  balancedMs: number
  cpuSeconds: number
  countsBelowInput: number
  failedSamples: number
  /** Pod loss only: where the time went from the kill until the moved partitions progressed again. */
  timeline?: TimelineStep[]
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`handover: timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return Date.now()
}

async function runScenario(ctx: BenchContext, scenario: Scenario, mode: Mode): Promise<Run> {
  const appId = ctx.uniqueName('bench-handover')
  const input = ctx.uniqueName('handover-in')
  const output = ctx.uniqueName('handover-out')
  await ctx.admin.createTopics([
    { name: input, partitions: PARTITIONS },
    { name: output, partitions: PARTITIONS }
  ])
  const standbys = mode.env.STREAMLANE_NUM_STANDBY_REPLICAS !== '0'
  let started = 0
  const start = () =>
    new AppInstance(`i${started++}`, module, {
      KAFKA_BROKERS: ctx.bootstrap,
      STREAMLANE_APPLICATION_ID: appId,
      INPUT_TOPIC: input,
      OUTPUT_TOPIC: output,
      STREAMLANE_STATE_DIR: freshStateDir('handover'),
      STREAMLANE_CACHE_MAX_BYTES: '0',
      STREAMLANE_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      STREAMLANE_ACCEPTABLE_RECOVERY_LAG: String(ACCEPTABLE_RECOVERY_LAG),
      STREAMLANE_METRICS_PORT: '0',
      ...mode.env
    })
  const producer = createProducer({ brokers: ctx.brokers, clientId: 'bench-handover-input' })
  const all: AppInstance[] = []
  let flowing = false
  let flow: Promise<void> = Promise.resolve()
  let produced = 0
  const record = (i: number) => ({ topic: input, key: Buffer.from(`k${i % scenario.keys}`), value: Buffer.from('x') })
  try {
    // The instances start on empty state, so the group balances at once; then the state is built.
    let instances = Array.from({ length: scenario.instancesBefore }, start)
    all.push(...instances)
    await waitUntil('the first balanced assignment', () => balanced(instances, PARTITIONS, false), 120_000)
    await sendAll(producer, scenario.keys, record)
    produced = scenario.keys
    await waitUntil('the state built', () => consumedAll(ctx, appId, input), 600_000)
    await waitUntil(
      'a balanced group with caught-up standbys',
      () => balanced(instances, PARTITIONS, standbys),
      300_000
    )
    ctx.log(`${scenario.label}, ${mode.label}: ${integer(scenario.keys)} keys of state built`)

    flowing = true
    flow = (async () => {
      const perTick = Math.max(1, Math.round(RATE / 10))
      while (flowing) {
        const tick = Date.now()
        const batch = Array.from({ length: perTick }, (_, k) => record(produced + k))
        produced += perTick
        await producer.send(batch)
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - tick))))
      }
    })()
    const monitor = new PartitionPauseMonitor(ctx.admin, appId, input).start()
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    monitor.reset()
    const marks = new Map(all.map((i) => [i, i.log.length]))
    // The partitions of the first instance's active tasks: the ones that move when it stops (task `<sub>_<p>`).
    const movingPartitions = activeTasks(instances[0]!).map((task) => Number(task.split('_')[1]))
    monitor.watchMoves()
    const eventAt = Date.now()
    instances = await scenario.event(instances, () => {
      const instance = start()
      all.push(instance)
      return instance
    })
    const cpuBefore = new Map(instances.map((i) => [i, processCpuSeconds(i.child.pid!) ?? 0]))
    const balancedAt = await waitUntil('balanced again', () => balanced(instances, PARTITIONS, false), 600_000)
    const cpuSeconds = instances.reduce(
      (sum, i) => sum + (processCpuSeconds(i.child.pid!) ?? 0) - (cpuBefore.get(i) ?? 0),
      0
    )
    // Keep watching a little: a partition may still be catching up right after the last move.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    flowing = false
    await flow
    await waitUntil('all input consumed', () => consumedAll(ctx, appId, input), 300_000)
    await monitor.stop()
    const longest = monitor.longest()
    const moves = monitor.firstMoves()
    const timeline =
      scenario.id === 'pod-loss'
        ? handoverTimeline({
            killedAt: eventAt,
            groupId: appId,
            brokerLogFile: ctx.brokerLogFile,
            survivors: instances.map((i) => ({ log: i.log, from: marks.get(i) ?? 0 })),
            resumedAt: new Map(movingPartitions.flatMap((p) => (moves.has(p) ? [[p, moves.get(p)!]] : [])))
          })
        : undefined
    const restores = instances.flatMap((i) => logLines(i, 'task restored', marks.get(i) ?? 0))
    const restoredOf = (line: Record<string, unknown>) => Number(line.records ?? 0)
    const run: Run = {
      scenario: scenario.label,
      mode: mode.label,
      keys: scenario.keys,
      longestPauseMs: longest?.longestMs ?? 0,
      restored: restores.reduce((sum, line) => sum + restoredOf(line), 0),
      largestTaskRestore: Math.max(0, ...restores.map(restoredOf)),
      balancedMs: balancedAt - eventAt,
      cpuSeconds,
      countsBelowInput: await countsBelowInput(ctx, output, scenario.keys, produced),
      failedSamples: monitor.failedSamples,
      timeline
    }
    ctx.log(`${scenario.label}, ${mode.label}: ${JSON.stringify(run)}`)
    return run
  } finally {
    flowing = false
    await flow
    for (const instance of all) if (instance.child.exitCode === null) instance.signal('SIGTERM')
    await Promise.race([Promise.all(all.map((i) => i.exited)), new Promise((resolve) => setTimeout(resolve, 30_000))])
    await killAll(all)
    await producer.close()
    removeStateDirs()
  }
}

/** Where a pod loss's pause went, step by step (see bench/lib/handover-timeline.ts). */
function timelineTable(run: Run, steps: TimelineStep[]): { heading: string; markdown: string } {
  return {
    heading: `Pod loss timeline: ${run.mode}`,
    markdown: markdownTable({
      headers: ['step', 'after the kill (s)', 'detail'],
      rows: steps.map((s) => [
        s.step,
        s.afterMs === undefined ? 'not seen' : fixed(s.afterMs / 1000, 2),
        s.detail ?? ''
      ])
    })
  }
}

export async function consumedAll(ctx: BenchContext, group: string, topic: string): Promise<boolean> {
  const [committed, ends] = await Promise.all([
    ctx.admin.fetchGroupOffsets(group, [topic]),
    ctx.admin.listOffsets([{ topic }], 'latest')
  ])
  return committed.every((c) => c.offset >= (ends.get(topic)?.get(c.partition) ?? 0n))
}

/** Keys whose last output count is below their count in the input: lost updates (at-least-once allows more). */
async function countsBelowInput(ctx: BenchContext, topic: string, keys: number, produced: number): Promise<number> {
  const latest = new Map<string, number>()
  await readToEnd(ctx, topic, 'output', { copyBuffers: true }, (batch) => {
    for (const r of batch) latest.set(r.key!.toString(), r.value!.readInt32BE(0))
  })
  let below = 0
  for (let k = 0; k < keys; k++) {
    const expected = Math.floor(produced / keys) + (k < produced % keys ? 1 : 0)
    if ((latest.get(`k${k}`) ?? 0) < expected) below++
  }
  return below
}

/**
 * `--scenarios=pod-loss,scale-in,scale-out` and `--modes=ha,none` (default: all) pick what runs, e.g. one scenario
 * while working on it; a partial run writes `handover-<scenarios>[-<modes>].md`, not the full results file.
 */
function selected<T extends { id: string }>(option: string, ids: string[], all: T[]): T[] {
  if (ids.length === 0) return all
  const unknown = ids.filter((id) => !all.some((item) => item.id === id))
  if (unknown.length > 0) {
    throw new Error(`handover: --${option}=${ids.join(',')}: choose from ${all.map((item) => item.id).join(', ')}`)
  }
  return all.filter((item) => ids.includes(item.id))
}

// The results file's name depends on the selection, so it is read from the command line when the module loads.
const commandLine = (() => {
  try {
    return parseBenchArgs(process.argv.slice(2))
  } catch {
    return undefined // bench/run.ts reports a bad command line
  }
})()
const scenarios = selected('scenarios', commandLine?.scenarios ?? [], SCENARIOS)
const modes = selected('modes', commandLine?.modes ?? [], MODES)
const partialName = [
  ...(scenarios.length < SCENARIOS.length ? [scenarios.map((s) => s.id).join('+')] : []),
  ...(modes.length < MODES.length ? [modes.map((m) => m.id).join('+')] : [])
].join('-')

export const handover: Benchmark = {
  name: 'handover',
  description: 'pod loss, scale-in and scale-out of a stateful app, with and without high availability',
  resultsFile: partialName ? `handover-${partialName}.md` : 'handover.md',
  async run(ctx) {
    const runs: Run[] = []
    for (const scenario of scenarios) {
      for (const mode of modes) runs.push(await runScenario(ctx, scenario, mode))
    }
    const headers = [
      'scenario',
      'mode',
      'keys',
      'longest partition pause (s)',
      'restored on the critical path',
      'largest restore of one task',
      'until balanced (s)',
      'app CPU until balanced (s)',
      'counts below input'
    ]
    const rows = runs.map((r) => [
      r.scenario,
      r.mode,
      integer(r.keys),
      fixed(r.longestPauseMs / 1000, 1),
      integer(r.restored),
      integer(r.largestTaskRestore),
      fixed(r.balancedMs / 1000, 1),
      fixed(r.cpuSeconds, 1),
      integer(r.countsBelowInput)
    ])
    const failedSamples = runs.reduce((sum, r) => sum + r.failedSamples, 0)
    // Issue 14's acceptance bars, checked on every high-availability run.
    const checks = runs
      .filter((r) => r.mode === MODES[0]!.label)
      .map((r) => {
        const bars = [
          `largest restore of one task ${integer(r.largestTaskRestore)} <= acceptableRecoveryLag: ${r.largestTaskRestore <= ACCEPTABLE_RECOVERY_LAG ? 'yes' : 'NO'}`,
          `no count below the input: ${r.countsBelowInput === 0 ? 'yes' : 'NO'}`
        ]
        if (r.scenario.startsWith('pod loss')) {
          const bar = SESSION_TIMEOUT_MS + 1_000
          bars.push(
            `longest pause within sessionTimeoutMs + 1 s (${fixed(bar / 1000, 1)} s): ${r.longestPauseMs <= bar ? 'yes' : 'NO'}`
          )
        }
        return `${r.scenario}, ${r.mode}: ${bars.join('; ')}`
      })
    return {
      title: 'Handover of stateful tasks: pod loss, scale-in, scale-out (issue 14)',
      summary: [
        `A count per key (LMDB store, changelog, cache 0) over ${PARTITIONS} input partitions, each instance its own ` +
          `process (\`streamlane run\`), session timeout ${SESSION_TIMEOUT_MS / 1000} s, ` +
          `acceptableRecoveryLag ${integer(ACCEPTABLE_RECOVERY_LAG)}, input flowing at ${integer(RATE)} records/s ` +
          'through each event. "Longest partition pause": the longest time an input partition had records waiting ' +
          'without its committed offset moving (sampled every 100 ms; commits every 200 ms), from the event on. ' +
          '"Restored on the critical path": changelog records active tasks restored before they could process ' +
          '(warm-ups and standbys restore off it). "Until balanced": until every task ran, no warm-up was in ' +
          'flight and the instances held within one task of each other. "Counts below input": keys whose final ' +
          'count is below their input count (lost updates; at-least-once may count a replayed record twice).',
        'The pod loss pause includes the session timeout: the group only notices a killed pod when its session ends. ' +
          'The instances heartbeat at the default interval (a fifteenth of the session timeout: 400 ms), so the ' +
          'others hear of that rebalance at most 400 ms after the broker started it. The timelines below say where ' +
          "the rest went (broker times from its group coordinator log, the others from the instances' logs and the " +
          'committed offsets).'
      ],
      tables: [
        { heading: 'Results', markdown: markdownTable({ headers, rows }) },
        ...runs.filter((r) => r.timeline).map((r) => timelineTable(r, r.timeline!))
      ],
      notes: [
        ...checks,
        ...(failedSamples > 0 ? [`${failedSamples} offset samples failed (broker busy) and were skipped`] : [])
      ]
    }
  }
}
