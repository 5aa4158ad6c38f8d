import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createPartitionReader } from '../../../src/kafka/partition-reader.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'

const BIN = fileURLToPath(new URL('../../../bin/streamlane.js', import.meta.url))
const WORKER = fileURLToPath(new URL('./fixtures/local-worker.ts', import.meta.url))
const PARTITIONS = 6
const RECORDS = 24_000
/** Per record: one worker drains 500 records/s, so the burst would take it ~50 s alone. */
const COST_MS = 2

interface LogLine {
  time: number
  level: number
  msg: string
  [field: string]: unknown
}

function parseLogLine(line: string): LogLine | undefined {
  try {
    return JSON.parse(line) as LogLine
  } catch {
    return undefined
  }
}

interface WorkerEvent {
  at: number
  worker: string
  type: string
  generationId?: number
  [field: string]: unknown
}

const cleanups: (() => Promise<void>)[] = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
})

/** The promise's value, or 'timeout' once `ms` passed (a deadline, not a pause: it ends as soon as the promise does). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Runs `streamlane autoscale --local` as a child process and keeps its JSON log lines (on stderr, with
 * `component: "autoscale"`; the workers it runs write theirs to the same stderr).
 */
function startScalerCli(
  args: string[],
  env: NodeJS.ProcessEnv
): { child: ChildProcess; logs: LogLine[]; stderr: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'autoscale', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const logs: LogLine[] = []
  const stderr: string[] = []
  const keep = (line: string) => {
    const log = parseLogLine(line)
    if (log?.component === 'autoscale') logs.push(log)
    else stderr.push(line)
  }
  createInterface({ input: child.stdout! }).on('line', keep)
  createInterface({ input: child.stderr! }).on('line', keep)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, logs, stderr, exited }
}

test('local scaler: 1 -> N workers under a burst, back to 1 when drained, no record lost, rebalances bounded', {
  timeout: 150_000
}, async (t) => {
  const brokers = testBrokers()
  const admin = createAdmin({ brokers, clientId: 'local-scaler-test' })
  const input = uniqueName('local-in')
  const output = uniqueName('local-out')
  const group = uniqueName('local-group')
  const dir = mkdtempSync(join(tmpdir(), 'streamlane-local-scaler-'))
  const eventsFile = join(dir, 'events.jsonl')
  cleanups.push(async () => {
    await admin.deleteTopics([input, output], { ifExists: true })
    await admin.close()
    rmSync(dir, { recursive: true, force: true })
  })
  await admin.createTopics([
    { name: input, partitions: PARTITIONS },
    { name: output, partitions: PARTITIONS }
  ])

  const scaler = startScalerCli(
    [
      '--local',
      '--group',
      group,
      '--topics',
      input,
      '--brokers',
      brokers.join(','),
      '--min',
      '1',
      '--max',
      '4',
      '--interval-ms',
      '500',
      '--grace-ms',
      '20000',
      '--rate-window-ms',
      '4000',
      // Knobs for a test that has a minute, not for production: short windows, drain targets and stabilization.
      '--lag-drain-target-seconds',
      '5',
      '--normal-lag-seconds',
      '1',
      '--scale-in-stabilization-seconds',
      '3',
      '--',
      process.execPath,
      WORKER
    ],
    {
      ...process.env,
      // The test reads the scaler's info-level decision lines, whatever level the caller's environment asks for.
      STREAMLANE_LOG_LEVEL: 'info',
      LOCAL_WORKER_INPUT: input,
      LOCAL_WORKER_OUTPUT: output,
      LOCAL_WORKER_COST_MS: String(COST_MS),
      LOCAL_WORKER_EVENTS: eventsFile
    }
  )
  cleanups.push(async () => {
    if (scaler.child.exitCode === null && scaler.child.signalCode === null) {
      scaler.child.kill('SIGTERM')
      await within(scaler.exited, 25_000)
      scaler.child.kill('SIGKILL')
    }
  })
  const events = (): WorkerEvent[] => {
    try {
      return readFileSync(eventsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as WorkerEvent)
    } catch {
      return []
    }
  }
  const decisions = () => scaler.logs.filter((l) => l.msg.startsWith('scaling decision'))
  const diagnostics = () =>
    `\nscaler stderr:\n${scaler.stderr.slice(-20).join('\n')}\nlast log:\n${scaler.logs
      .slice(-5)
      .map((l) => JSON.stringify(l))
      .join('\n')}`

  await waitFor(
    'worker 0 to own all partitions',
    async () => {
      const [described] = await admin.describeGroups([group])
      return (
        described?.state === 'Stable' &&
        described.members.length === 1 &&
        described.members[0]?.assignment[0]?.partitions.length === PARTITIONS
      )
    },
    { timeoutMs: 30_000, intervalMs: 200 }
  ).catch((error: Error) => assert.fail(`${error.message}${diagnostics()}`))

  const producer = createProducer({ brokers, clientId: 'local-scaler-test-burst' })
  const burstAt = Date.now()
  await producer.send(
    Array.from({ length: RECORDS }, (_, i) => ({
      topic: input,
      partition: i % PARTITIONS,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(String(i))
    }))
  )
  await producer.close()
  t.diagnostic(`burst of ${RECORDS} records produced in ${Date.now() - burstAt} ms`)

  const peak = () => Math.max(0, ...decisions().map((d) => d.replicas as number))
  await waitFor('a scale-out beyond 1 worker', () => peak() > 1, { timeoutMs: 20_000, intervalMs: 100 }).catch(
    (error: Error) => assert.fail(`${error.message}${diagnostics()}`)
  )

  const committedTotal = async () => {
    const offsets = await admin.fetchGroupOffsets(group, [input])
    return offsets.reduce((sum, o) => sum + (o.offset > 0n ? Number(o.offset) : 0), 0)
  }
  await waitFor('every record committed', async () => (await committedTotal()) === RECORDS, {
    timeoutMs: 70_000,
    intervalMs: 250
  }).catch(async (error: Error) =>
    assert.fail(`${error.message} (committed ${await committedTotal()})${diagnostics()}`)
  )
  const drainedAt = Date.now()
  await waitFor(
    'the scaler back at 1 worker, nothing starting or stopping',
    () => {
      const last = decisions().at(-1)
      return last?.replicas === 1 && JSON.stringify(last.workers) === JSON.stringify(['0:running'])
    },
    { timeoutMs: 40_000, intervalMs: 100 }
  ).catch((error: Error) => assert.fail(`${error.message}${diagnostics()}`))
  const settledAt = Date.now()

  // The timeline: every change of the worker count, with the reason the policy gave.
  let previous = 1
  const timeline: string[] = []
  for (const d of decisions()) {
    if (d.replicas !== previous) {
      timeline.push(
        `+${((d.time - burstAt) / 1000).toFixed(1)}s ${previous} -> ${d.replicas} (lag ${d.lag}): ${d.msg.slice(18)}`
      )
      previous = d.replicas as number
    }
  }
  const started = scaler.logs.filter((l) => / started \(/.test(l.msg)).length
  const stopped = scaler.logs.filter((l) => / stopped in /.test(l.msg)).length
  const membershipChanges = started - 1 + stopped
  // Never more than one scale-in step in flight: the workers of a step get SIGTERM together (one step, as the policy
  // sized it), and the next step's only once every one of them has exited.
  const inFlight = new Set<unknown>()
  let inFlightStep: string | undefined
  for (const l of scaler.logs) {
    const scaleIn = /: SIGTERM \((scale in [^)]*)\)/.exec(l.msg)
    if (scaleIn) {
      if (inFlight.size > 0) {
        assert.equal(scaleIn[1], inFlightStep, `${l.msg} while ${[...inFlight].join(', ')} was still stopping`)
      }
      inFlight.add(l.worker)
      inFlightStep = scaleIn[1]
    } else if (/ stopped in /.test(l.msg)) inFlight.delete(l.worker)
  }

  // Every input record reached the output exactly once.
  const ends = await admin.listOffsets([{ topic: output }], 'latest')
  const outputCount = [...(ends.get(output)?.values() ?? [])].reduce((sum, o) => sum + Number(o), 0)
  const reader = createPartitionReader({ brokers, clientId: 'local-scaler-test-reader', fetchMaxWaitMs: 100 })
  await reader.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: output, partition, offset: 0n })))
  const seen = new Map<string, number>()
  let read = 0
  const readDeadline = Date.now() + 30_000
  while (read < outputCount) {
    assert.ok(Date.now() < readDeadline, `read ${read} of ${outputCount} output records before the deadline`)
    for (const r of await reader.poll(200)) {
      read++
      const { p, o } = JSON.parse(String(r.value)) as { p: number; o: string }
      const id = `${p}:${o}`
      seen.set(id, (seen.get(id) ?? 0) + 1)
    }
  }
  await reader.close()
  const duplicates = read - seen.size
  const missing: string[] = []
  for (let i = 0; i < RECORDS; i++) {
    const id = `${i % PARTITIONS}:${Math.floor(i / PARTITIONS)}`
    if (!seen.has(id)) missing.push(id)
  }

  // Stop the scaler as a terminal or Kubernetes would: every worker gets SIGTERM, commits, leaves and exits.
  scaler.child.kill('SIGTERM')
  const code = await within(scaler.exited, 30_000)

  const all = events()
  const generations = all.filter((e) => e.type === 'joined').map((e) => e.generationId as number)
  const rebalances = Math.max(...generations) - Math.min(...generations)
  const trouble = all.filter((e) => ['lost', 'failed', 'crashed', 'close-failed'].includes(e.type))
  const crashes = scaler.logs.filter((l) => /exited unexpectedly|did not exit within/.test(l.msg))

  t.diagnostic(`timeline:\n  ${timeline.join('\n  ')}`)
  t.diagnostic(
    `peak ${peak()} workers; drained ${((drainedAt - burstAt) / 1000).toFixed(1)} s after the burst, back to 1 at ` +
      `${((settledAt - burstAt) / 1000).toFixed(1)} s; ${timeline.length} scale events; workers started ${started}, ` +
      `stopped ${stopped}; rebalances ` +
      `(generations ${Math.min(...generations)}..${Math.max(...generations)}) ${rebalances}; produced ${RECORDS}, ` +
      `output ${read}, distinct ${seen.size}, duplicates ${duplicates}, missing ${missing.length}`
  )

  assert.ok(peak() > 1, 'scaled out')
  assert.equal(missing.length, 0, `missing records, e.g. ${missing.slice(0, 5).join(', ')}`)
  assert.equal(duplicates, 0, 'graceful handovers (commit on revoke, leave on SIGTERM) replay nothing')
  assert.deepEqual(trouble, [], 'no partition was lost and no worker failed')
  assert.deepEqual(crashes, [], 'no worker crashed or had to be killed')
  // Each worker joining or leaving is one rebalance; with cooperative rebalancing a join that moves partitions takes
  // two generations (revoke, then hand over). Anything beyond that, plus slack for joins that land in separate
  // rounds, would be a storm.
  assert.ok(
    rebalances <= 2 * membershipChanges + 2,
    `${rebalances} rebalances for ${membershipChanges} membership changes: a rebalance storm`
  )
  assert.equal(code, 0, `the scaler exits 0 after stopping its workers${diagnostics()}`)
  assert.equal(all.filter((e) => e.type === 'stopped').length, stopped + 1, 'every worker stopped gracefully')
})
