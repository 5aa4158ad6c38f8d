/**
 * The local scaler's process handling, without a broker: signals come from an in-memory cluster, decisions from a
 * policy the test steers, and the workers are a dummy script. What is checked is what happens to processes: their
 * environment, restarts after a crash, SIGKILL after the grace period, one scale-in step at a time (as the policy sized it), a clean stop.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { ScalingPolicy } from '../../../src/autoscale/keda/policy-port.ts'
import { WorkerCommandError } from '../../../src/autoscale/local/errors.ts'
import { type LocalScaler, startLocalScaler } from '../../../src/autoscale/local/local-scaler.ts'
import type { LocalLogger } from '../../../src/autoscale/local/worker-pool.ts'
import { waitFor } from '../../support/wait.ts'
import { fakeAdmin, fakeCluster } from '../../unit/autoscale/signals-fake-admin.ts'

const DUMMY = fileURLToPath(new URL('./fixtures/local-dummy-worker.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'streamlane-local-processes-'))
const scalers: LocalScaler[] = []
after(async () => {
  for (const s of scalers) await s.stop().catch(() => {})
  rmSync(dir, { recursive: true, force: true })
})

interface Logged {
  level: string
  message: string
  fields: Record<string, unknown>
  at: number
}

function recordingLogger(): LocalLogger & { lines: Logged[] } {
  const lines: Logged[] = []
  const log = (level: string) => (fields: object, message: string) =>
    lines.push({ level, message, fields: fields as Record<string, unknown>, at: Date.now() })
  return { lines, info: log('info'), warn: log('warn'), error: log('error') }
}

/** A policy whose recommendation the test sets. */
function steeredPolicy(initial: number): ScalingPolicy & { replicas: number } {
  const policy = {
    replicas: initial,
    targetSize: 1,
    decide: (_s: unknown, _t: unknown, state: unknown, current: number) => ({
      replicas: policy.replicas,
      reason: `steered ${current} -> ${policy.replicas}`,
      state
    }),
    metric: () => ({ metricValue: 0, target: 1, active: true, exact: true, hpaReplicas: 0 })
  }
  return policy as unknown as ScalingPolicy & { replicas: number }
}

function events(file: string): { type: string; slot: number; pid: number; [k: string]: unknown }[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  } catch {
    return []
  }
}

const cluster = () =>
  fakeCluster({
    topics: { t: { start: [0, 0, 0], end: [10, 10, 10] } },
    groups: { g: { state: 'Stable', commits: { t: { 0: 10, 1: 10, 2: 10 } } } }
  })

async function start(
  name: string,
  options: { min: number; max: number; policy: ScalingPolicy; env?: Record<string, string> }
) {
  const logger = recordingLogger()
  const eventsFile = join(dir, `${name}.jsonl`)
  const c = cluster()
  const scaler = await startLocalScaler(
    {
      groupId: 'g',
      topics: ['t'],
      brokers: ['127.0.0.1:1'],
      command: process.execPath,
      args: [DUMMY],
      intervalMs: 100,
      graceMs: 800,
      restartBackoffMs: 300,
      startTimeoutMs: 20_000,
      output: 'inherit',
      policy: { minReplicas: options.min, maxReplicas: options.max }
    },
    {
      logger,
      adminFactory: () => fakeAdmin(c),
      policy: options.policy,
      env: { ...process.env, DUMMY_EVENTS: eventsFile, ...options.env }
    }
  )
  scalers.push(scaler)
  return { scaler, logger, eventsFile }
}

test('workers get their identity; a crash is logged and restarted in its slot; stop() SIGKILLs a stubborn one after the grace', async () => {
  const { scaler, logger, eventsFile } = await start('crash', {
    min: 2,
    max: 2,
    policy: steeredPolicy(2),
    env: { DUMMY_CRASH_SLOT: '1', DUMMY_STUBBORN_SLOT: '0' }
  })
  await waitFor(
    'slot 1 restarted after its crash',
    () => events(eventsFile).filter((e) => e.type === 'started' && e.slot === 1).length === 2,
    {
      timeoutMs: 15_000
    }
  )
  const started = events(eventsFile).filter((e) => e.type === 'started')
  const first = started.find((e) => e.slot === 0)
  assert.deepEqual(
    [first?.instanceId, first?.groupId, first?.brokers, first?.scalerUrl],
    ['g-worker-0', 'g', '127.0.0.1:1', scaler.reportUrl]
  )
  const crash = logger.lines.find((l) => /g-worker-1 exited unexpectedly \(code 3/.test(l.message))
  assert.ok(crash, 'the crash is logged with its exit code')
  assert.equal(crash.level, 'error')
  assert.ok(
    logger.lines.some((l) => l.level === 'warn' && /g-worker-1 exited unexpectedly; restarting in/.test(l.message))
  )
  const restarted = logger.lines.find((l) => /g-worker-1 started \(restart after crash 1 in a row\)/.test(l.message))
  assert.ok(restarted && restarted.at - crash.at >= 250, 'restarted after the backoff, not at once')
  await waitFor('the restarted worker to be running again', () =>
    scaler.status().workers.every((w) => w.phase === 'running')
  )

  const stopping = Date.now()
  await scaler.stop()
  const stoppedIn = Date.now() - stopping
  const stops = logger.lines.filter((l) => / stopped in /.test(l.message))
  assert.equal(stops.length, 2)
  assert.ok(
    stops.some((l) => l.fields.worker === 'g-worker-0' && l.fields.killed === true),
    'the stubborn worker was killed'
  )
  assert.ok(
    stops.some((l) => l.fields.worker === 'g-worker-1' && l.fields.killed === false),
    'the other one exited on SIGTERM'
  )
  assert.ok(stoppedIn >= 700 && stoppedIn < 5_000, `stop waited for the grace period (${stoppedIn} ms)`)
  assert.equal(scaler.status().workers.length, 0)
})

test('scale out, then scale in in one step from the highest slots, the next change only after they exited', async () => {
  const policy = steeredPolicy(3)
  const { scaler, logger, eventsFile } = await start('steps', { min: 1, max: 3, policy })
  await waitFor('3 workers running and reporting', () => {
    const last = scaler.status().lastDecision
    return scaler.status().workers.length === 3 && last?.replicas === 3 && last.hold === null
  })
  const status = (await (await fetch(`${scaler.reportUrl}/status`)).json()) as { replicas: number; workers: unknown[] }
  assert.equal(status.replicas, 3)
  assert.equal(status.workers.length, 3)
  policy.replicas = 1
  await waitFor('back to one worker', () => scaler.status().workers.length === 1 && scaler.status().replicas === 1, {
    timeoutMs: 10_000
  })
  assert.equal(scaler.status().workers[0]?.slot, 0)
  const sigterms = logger.lines.filter((l) => /: SIGTERM \(scale in/.test(l.message))
  // The policy's one step is one step here: both workers above slot 0 get SIGTERM for it, highest first.
  assert.deepEqual(
    sigterms.map((l) => [l.fields.worker, l.fields.reason]),
    [
      ['g-worker-2', 'scale in 3 -> 1'],
      ['g-worker-1', 'scale in 3 -> 1']
    ]
  )
  assert.deepEqual(
    events(eventsFile)
      .filter((e) => e.type === 'exiting')
      .map((e) => e.slot)
      .sort(),
    [1, 2]
  )
  // A scale-out asked while they stop waits for them: the next worker starts after both exited.
  policy.replicas = 2
  await waitFor('two workers again', () => scaler.status().workers.length === 2, { timeoutMs: 10_000 })
  const stops = logger.lines.filter((l) => / stopped in /.test(l.message))
  const restarted = logger.lines.filter((l) => /g-worker-1.* started \(/.test(l.message)).at(-1)
  assert.ok(restarted && stops.every((s) => s.at <= restarted.at), 'the scale-out waited for the scale-in step')
  await scaler.stop()
})

test('a worker command that does not exist stops the scaler with a clear error', async () => {
  const logger = recordingLogger()
  const scaler = await startLocalScaler(
    { groupId: 'g', topics: ['t'], brokers: ['127.0.0.1:1'], command: 'streamlane-no-such-command', intervalMs: 100 },
    { logger, adminFactory: () => fakeAdmin(cluster()), policy: steeredPolicy(1) }
  )
  scalers.push(scaler)
  await assert.rejects(scaler.done, (error) => {
    assert.ok(error instanceof WorkerCommandError)
    assert.match(error.message, /cannot start worker command "streamlane-no-such-command": not found/)
    return true
  })
})
