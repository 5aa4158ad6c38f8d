/**
 * The local scaler drives a stateful Streamlane app (issue 14: "the policy holds scale-in while warm-ups catch up:
 * prove it end to end with the local scaler on a stateful app"). Each worker is `streamlane run` of a count per key
 * with an LMDB store and a changelog, reporting to the scaler; the scaler runs the real policy.
 *
 * 1. The count's changelog already holds a large state (written straight into it, which is what the state is: a cache
 *    of its changelog), so worker 0 restores it and then counts the input, which flows all along.
 * 2. Load arrives (the test's one hand on the policy: it asks for 2 replicas for as long as worker 1 takes to start
 *    and be given warm-ups). Worker 1 gets warm-up copies of two tasks, no active task.
 * 3. From then on the real policy decides. The arrivals alone need one replica, so it wants to scale in, and must not
 *    while the warm-ups catch up: its decisions say so, and worker 1 is stopped only after the tasks moved to it.
 *
 * Outcomes checked: decisions held with "warm-ups catching up"; the scale-in SIGTERM came after worker 1 ran the
 * tasks it had warmed up and held no warm-up any more; every task that moved to worker 1 had been warmed up there
 * and restored at most acceptableRecoveryLag records; the tasks that came back to worker 0 on the scale-in restored
 * only what changed meanwhile (their state stayed in its directory), not the whole changelog; every key's count is
 * exactly its input count.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { defaultPolicy } from '../../../src/autoscale/keda/policy-adapter.ts'
import type { ScalingPolicy } from '../../../src/autoscale/keda/policy-port.ts'
import { type LocalScaler, startLocalScaler } from '../../../src/autoscale/local/local-scaler.ts'
import type { LocalLogger } from '../../../src/autoscale/local/worker-pool.ts'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { readToEnd } from '../runtime/standby-support.ts'

const BIN = fileURLToPath(new URL('../../../bin/streamlane.js', import.meta.url))
const WORKER = fileURLToPath(new URL('./fixtures/stateful-worker.ts', import.meta.url))
const PARTITIONS = 4
/** Changelog records per task written before the start: enough that a warm-up takes a few scaler decisions. */
const STATE_PER_TASK = 250_000
const ACCEPTABLE_RECOVERY_LAG = 1_000
const KEYS = 200

interface Logged {
  message: string
  fields: Record<string, unknown>
  at: number
}

type WorkerLine = Record<string, unknown> & { msg: string; time: number }

const cleanups: (() => Promise<void>)[] = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
})

function recordingLogger(): LocalLogger & { lines: Logged[] } {
  const lines: Logged[] = []
  const log = (fields: object, message: string) =>
    lines.push({ message, fields: fields as Record<string, unknown>, at: Date.now() })
  return { lines, info: log, warn: log, error: log }
}

/** The JSON log lines of one worker slot (its stderr, appended to a file by the worker command). */
function workerLog(dir: string, group: string, slot: number, msg?: string): WorkerLine[] {
  let text = ''
  try {
    text = readFileSync(join(dir, `${group}-worker-${slot}.log`), 'utf8')
  } catch {
    return []
  }
  const lines: WorkerLine[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const parsed = JSON.parse(line) as WorkerLine
      if (msg === undefined || parsed.msg === msg) lines.push(parsed)
    } catch {
      // a line still being written
    }
  }
  return lines
}

const activeOf = (line: WorkerLine | undefined) => (line?.active as string[] | undefined) ?? []

test('local scaler on a stateful app: no scale-in while warm-ups catch up, tasks move only after warm-up, counts exact', {
  timeout: 120_000
}, async () => {
  const brokers = testBrokers()
  const admin = createAdmin({ brokers, clientId: 'warm-up-hold-test' })
  const producer = createProducer({ brokers, clientId: 'warm-up-hold-input' })
  const group = uniqueName('warmup-hold')
  const input = uniqueName('warmup-hold-in')
  const output = uniqueName('warmup-hold-out')
  const changelog = `${group}-counts-changelog`
  const dir = mkdtempSync(join(tmpdir(), 'streamlane-warmup-hold-'))
  let scaler: LocalScaler | undefined
  let flowing = true
  let flow: Promise<void> = Promise.resolve()
  cleanups.push(async () => {
    flowing = false
    await flow
    await scaler?.stop()
    await producer.close()
    await admin.deleteTopics([input, output, changelog], { ifExists: true })
    await admin.close()
    rmSync(dir, { recursive: true, force: true })
  })
  await admin.createTopics([
    { name: input, partitions: PARTITIONS },
    { name: output, partitions: PARTITIONS },
    { name: changelog, partitions: PARTITIONS, configs: { 'cleanup.policy': 'compact' } }
  ])
  // The state: keys the input never uses, so the counts checked below are the input's alone.
  const value = Buffer.alloc(4)
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (let from = 0; from < STATE_PER_TASK; from += 10_000) {
      await producer.send(
        Array.from({ length: 10_000 }, (_, i) => ({
          topic: changelog,
          partition,
          key: Buffer.from(`state-${partition}-${from + i}`),
          value
        }))
      )
    }
  }

  // Input flows all along: 20 records every 100 ms over KEYS keys.
  const sent = new Map<string, number>()
  let next = 0
  flow = (async () => {
    while (flowing) {
      const batch = Array.from({ length: 20 }, () => `k${next++ % KEYS}`)
      for (const key of batch) sent.set(key, (sent.get(key) ?? 0) + 1)
      await producer.send(batch.map((key) => ({ topic: input, key: Buffer.from(key), value: Buffer.from('x') })))
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })()

  // The real policy, except that the test makes load arrive: while `loadArrives`, 2 replicas.
  let loadArrives = false
  const policy: ScalingPolicy = {
    targetSize: defaultPolicy.targetSize,
    metric: (replicas, current, targets) => defaultPolicy.metric(replicas, current, targets),
    decide(signals, targets, state, current) {
      const decision = defaultPolicy.decide(signals, targets, state, current)
      return loadArrives
        ? { ...decision, replicas: 2, reason: `test: load arrives => 2 (${decision.reason})` }
        : decision
    }
  }
  const logger = recordingLogger()
  scaler = await startLocalScaler(
    {
      groupId: group,
      topics: [input],
      brokers,
      // Each worker its own state directory, its stderr kept for the checks.
      command: 'sh',
      args: [
        '-c',
        'STREAMLANE_STATE_DIR="$WARMUP_TEST_DIR/state-$STREAMLANE_WORKER_INDEX" exec "$0" "$@" ' +
          '2>>"$WARMUP_TEST_DIR/$STREAMLANE_GROUP_INSTANCE_ID.log"',
        process.execPath,
        BIN,
        'run',
        WORKER
      ],
      intervalMs: 250,
      graceMs: 20_000,
      rateWindowMs: 2_000,
      reportTtlMs: 2_000,
      output: 'ignore',
      policy: {
        minReplicas: 1,
        maxReplicas: 2,
        scaleInStabilizationSeconds: 1,
        lagDrainTargetSeconds: 5,
        normalLagSeconds: 1
      }
    },
    {
      logger,
      policy,
      env: {
        ...process.env,
        WARMUP_TEST_DIR: dir,
        INPUT_TOPIC: input,
        OUTPUT_TOPIC: output,
        STREAMLANE_APPLICATION_ID: group,
        STREAMLANE_SESSION_TIMEOUT_MS: '10000',
        STREAMLANE_ACCEPTABLE_RECOVERY_LAG: String(ACCEPTABLE_RECOVERY_LAG),
        STREAMLANE_LOG_LEVEL: 'info'
      }
    }
  )

  // 1. Worker 0 runs all tasks, its state restored.
  await waitFor(
    'worker 0 running all tasks',
    () =>
      activeOf(workerLog(dir, group, 0, 'assignment running').at(-1)).length === PARTITIONS &&
      workerLog(dir, group, 0, 'task restored').length === PARTITIONS,
    { timeoutMs: 40_000 }
  )

  // 2. Load arrives: worker 1 starts and is given warm-ups; then the real policy decides again.
  loadArrives = true
  const warmups = await waitFor(
    'warm-ups on worker 1',
    () =>
      workerLog(dir, group, 1, 'standby and warm-up tasks assigned').find((l) => (l.warmup as string[]).length > 0)
        ?.warmup as string[] | undefined,
    { timeoutMs: 30_000 }
  )
  loadArrives = false
  const realFrom = Date.now()

  // 3. The tasks move to worker 1 once warm; then the scaler scales in and they come back to worker 0.
  await waitFor(
    'worker 1 stopped by a scale-in',
    () => logger.lines.some((l) => /worker .*-worker-1 stopped in/.test(l.message)),
    { timeoutMs: 40_000 }
  )
  await waitFor(
    'worker 0 running all tasks again',
    () => activeOf(workerLog(dir, group, 0, 'assignment running').at(-1)).length === PARTITIONS
  )
  flowing = false
  await flow

  // The decisions while worker 1 warmed up held the scale-in the arrivals alone asked for.
  const decisions = logger.lines.filter((l) => l.message.startsWith('scaling decision') && l.at >= realFrom)
  const held = decisions.filter((l) => /no scale-in: warm-ups catching up/.test(l.message))
  assert.ok(held.length > 0, `some decision held for the warm-ups:\n${decisions.map((l) => l.message).join('\n')}`)
  for (const decision of held) assert.equal(decision.fields.replicas, 2, decision.message)

  // Worker 1 was stopped only after the tasks it warmed up ran there, with no warm-up left in flight.
  const sigterm = logger.lines.find((l) => /-worker-1: SIGTERM \(scale in/.test(l.message))
  assert.ok(sigterm, 'worker 1 got SIGTERM for a scale-in')
  const worker1Runs = workerLog(dir, group, 1, 'assignment running')
  const moved = worker1Runs.flatMap((l) => (l.added as string[]) ?? [])
  assert.deepEqual([...moved].sort(), [...warmups].sort(), 'the tasks warmed up on worker 1 moved there')
  const movedAt = Math.max(...worker1Runs.filter((l) => ((l.added as string[]) ?? []).length > 0).map((l) => l.time))
  assert.ok(movedAt < sigterm.at, 'scale-in only after the tasks moved')
  const promoted = workerLog(dir, group, 1, 'standby tasks promoted to active')
    .filter((l) => l.time < sigterm.at)
    .flatMap((l) => l.tasks as string[])
  assert.deepEqual(promoted.sort(), [...warmups].sort(), 'every warm-up had become active before worker 1 was stopped')

  const worker1Restored = workerLog(dir, group, 1, 'task restored').map((l) => l.records as number)
  console.log(
    `warm-ups ${warmups.join(',')} on worker 1: ${held.length} of ${decisions.length} decisions held for them; ` +
      `moved ${movedAt - realFrom} ms after the policy took over, restoring [${worker1Restored.join(', ')}] records; ` +
      `SIGTERM ${sigterm.at - movedAt} ms after the move`
  )

  // Tasks moved to worker 1 only after warm-up: at most acceptableRecoveryLag left to restore.
  for (const line of workerLog(dir, group, 1, 'task restored')) {
    assert.ok((line.records as number) <= ACCEPTABLE_RECOVERY_LAG, `worker 1 restored ${line.records} for ${line.task}`)
  }
  // The scale-in gave them back to worker 0, which restored only what worker 1 changed, not the whole changelog.
  const returned = workerLog(dir, group, 0, 'task restored').filter((l) => l.time > sigterm.at)
  for (const line of returned) {
    assert.ok((line.records as number) < STATE_PER_TASK / 10, `worker 0 restored ${line.records} for ${line.task}`)
  }

  // Every key counted exactly once per input record: no update lost, none counted twice through the moves.
  const latest = await waitFor('every count in the output', async () => {
    const counts = new Map<string, number>()
    for (const r of await readToEnd(admin, output)) counts.set(r.key!.toString(), r.value!.readInt32BE(0))
    return [...sent].every(([key, count]) => (counts.get(key) ?? 0) >= count) ? counts : undefined
  })
  const wrong = [...sent].filter(([key, count]) => latest.get(key) !== count)
  assert.deepEqual(
    wrong.map(([key, count]) => `${key}: ${latest.get(key)} counted, ${count} sent`),
    [],
    'counts equal the input'
  )
  assert.equal(latest.size, sent.size)
})
