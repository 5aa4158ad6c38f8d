/**
 * Issue 14, scale-out without a stall (KIP-441): one instance of a stateful count app holds every task; a second one
 * joins while input keeps flowing. High availability (the default) gives the newcomer warm-up copies first, not
 * active tasks: the tasks keep running where their state is. Once the warm-ups are within acceptableRecoveryLag the
 * newcomer asks for a probing rebalance, and only then do tasks move, its new active tasks restoring a short tail
 * instead of their changelog. Counts stay exact (graceful handover: committed before it moves).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { AppInstance, killAll } from './instances.ts'
import { activeTasks, logLines, partitionEnds, readToEnd, restoredRecords } from './standby-support.ts'
import { committedInput, createTopics } from './support.ts'

const PARTITIONS = 4
const KEYS = 5_000
const ACCEPTABLE_RECOVERY_LAG = 2_000
const module = fileURLToPath(new URL('./fixtures/count-app.ts', import.meta.url))

test('scale-out: the newcomer warms up first, tasks move after a probing rebalance, restoring a tail', async () => {
  const appId = uniqueName('warmup')
  const input = uniqueName('warmup-in')
  const output = uniqueName('warmup-out')
  const changelog = `${appId}-counts-changelog`
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'streamlane-warmup-')))
  const admin = createAdmin({ brokers: testBrokers() })
  const producer = createProducer({ brokers: testBrokers() })
  const round = () =>
    producer.send(
      Array.from({ length: KEYS }, (_, k) => ({ topic: input, key: Buffer.from(`k${k}`), value: Buffer.from('x') }))
    )
  const start = (name: string, stateDir: string) =>
    new AppInstance(name, module, {
      STREAMLANE_APPLICATION_ID: appId,
      INPUT_TOPIC: input,
      OUTPUT_TOPIC: output,
      STREAMLANE_STATE_DIR: stateDir,
      STREAMLANE_ACCEPTABLE_RECOVERY_LAG: String(ACCEPTABLE_RECOVERY_LAG),
      STREAMLANE_SESSION_TIMEOUT_MS: '20000',
      STREAMLANE_HEARTBEAT_INTERVAL_MS: '1000',
      STREAMLANE_CACHE_MAX_BYTES: '0'
    })
  const instances: AppInstance[] = []
  let rounds = 0
  let flowing = true
  let flow: Promise<void> = Promise.resolve()
  try {
    await createTopics([
      { name: input, partitions: PARTITIONS },
      { name: output, partitions: PARTITIONS }
    ])
    for (; rounds < 20; rounds++) await round()
    const a = start('a', dirs[0]!)
    instances.push(a)
    await waitFor('a runs every task', () => activeTasks(a).length === PARTITIONS, { timeoutMs: 60_000 })
    await waitFor('a processed the backlog', async () => (await committedInput(admin, appId, input)) === KEYS * 20, {
      timeoutMs: 90_000,
      intervalMs: 200
    })
    const changelogEnds = await partitionEnds(admin, changelog)
    // Input keeps flowing through the scale-out: a round (every key once) every 300 ms.
    flow = (async () => {
      while (flowing) {
        await round()
        rounds++
        await new Promise((resolve) => setTimeout(resolve, 300))
      }
    })()

    const b = start('b', dirs[1]!)
    instances.push(b)
    await waitFor('b runs tasks of its own', () => activeTasks(b).length === PARTITIONS / 2, { timeoutMs: 90_000 })
    flowing = false
    await flow

    const lines = b.log.split('\n')
    const firstWarmup = lines.findIndex((l) => l.includes('warm-up tasks assigned') && l.includes('"warmup":["'))
    const firstActive = lines.findIndex((l) => l.includes('"msg":"assignment running"') && l.includes('"active":["'))
    assert.ok(firstWarmup >= 0 && firstWarmup < firstActive, 'b held warm-ups before it got active tasks')
    const probes = logLines(b, 'probing rebalance')
    assert.ok(
      probes.some((p) => p.reason === 'warm-up tasks caught up'),
      'b asked for the rebalance that moved the tasks'
    )
    const moved = activeTasks(b)
    const changelogOfMoved = moved.reduce((sum, t) => sum + Number(changelogEnds.get(Number(t.split('_')[1]))!), 0)
    const restored = restoredRecords(b)
    console.log(
      `scale-out: ${moved.join(',')} moved to b after warm-up; b restored ${restored} records on the critical path ` +
        `(their changelog held ${changelogOfMoved}+ records; acceptableRecoveryLag ${ACCEPTABLE_RECOVERY_LAG})`
    )
    assert.ok(restored <= changelogOfMoved * 0.2, `restored ${restored} of ${changelogOfMoved}+ records`)

    await waitFor(
      'every input record committed',
      async () => (await committedInput(admin, appId, input)) === KEYS * rounds,
      {
        timeoutMs: 90_000,
        intervalMs: 200
      }
    )
    for (const instance of instances) instance.signal('SIGTERM')
    for (const instance of instances) assert.equal(await instance.exited, 0, `${instance.name} exit`)
    const latest = new Map<string, number>()
    for (const r of await readToEnd(admin, output)) latest.set(r.key!.toString(), r.value!.readInt32BE(0))
    assert.equal(latest.size, KEYS)
    assert.deepEqual([...new Set(latest.values())], [rounds], `every count is exactly ${rounds}`)
  } finally {
    flowing = false
    await flow.catch(() => {})
    await producer.close()
    await killAll(instances)
    await admin.close()
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
})
