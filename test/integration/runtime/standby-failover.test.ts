/**
 * Issue 14, pod loss and scale-in with a standby: 2 instances of a stateful count app with `numStandbyReplicas: 1`.
 * Each holds a standby of the other's tasks, which keeps up with the changelog without writing anything (the
 * changelog and the output do not move while only standbys work). One instance is SIGKILLed (or, scale-in, stopped
 * with SIGTERM): the survivor takes its tasks over from its standbys, restoring only a tail (here nothing: the
 * standbys had caught up), not the changelog; final counts are exact (all work was committed before the signal).
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
import {
  activeTasks,
  checkpointsAtEnd,
  logLines,
  partitionEnds,
  readToEnd,
  replicaTasks,
  restoredRecords
} from './standby-support.ts'
import { committedInput, createTopics, readTopic, topicEnd } from './support.ts'

const PARTITIONS = 4
const KEYS = 5_000
const module = fileURLToPath(new URL('./fixtures/count-app.ts', import.meta.url))

/** GET /status of an instance: its active tasks and its standby and warm-up copies with their lags. */
interface InstanceStatus {
  active: { task: string }[]
  replicas: { task: string; kind: string; lag: number | null }[]
}

function endpointOf(instance: AppInstance): string {
  return `http://127.0.0.1:${logLines(instance, 'metrics and health endpoint listening')[0]!.port as number}`
}

async function statusOf(instance: AppInstance): Promise<InstanceStatus> {
  return (await (await fetch(`${endpointOf(instance)}/status`)).json()) as InstanceStatus
}

/** A sample's value from the instance's GET /metrics (Prometheus text), e.g. `streamlane_app_replica_tasks{kind="standby"}`. */
async function metricOf(instance: AppInstance, sample: string): Promise<number | undefined> {
  const text = await (await fetch(`${endpointOf(instance)}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? undefined : Number(line.slice(sample.length + 1))
}

async function produceRound(topic: string, perKey: number): Promise<void> {
  const producer = createProducer({ brokers: testBrokers() })
  try {
    for (let n = 0; n < perKey; n++) {
      const records = []
      for (let k = 0; k < KEYS; k++) records.push({ topic, key: Buffer.from(`k${k}`), value: Buffer.from('x') })
      await producer.send(records)
    }
  } finally {
    await producer.close()
  }
}

/** Same tasks, in any order. */
function same(a: readonly string[], b: readonly string[]): boolean {
  return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort())
}

const cases = [
  { guarantee: 'at_least_once', signal: 'SIGKILL', inMemory: false },
  { guarantee: 'exactly_once_v2', signal: 'SIGKILL', inMemory: false },
  // Scale-in: the leaving instance commits, hands its tasks over and leaves; they go to the standby holder.
  { guarantee: 'at_least_once', signal: 'SIGTERM', inMemory: false },
  // An in-memory store: the promoted standby's data is handed to the active task in memory, nothing is rebuilt.
  { guarantee: 'exactly_once_v2', signal: 'SIGKILL', inMemory: true }
] as const

for (const { guarantee, signal, inMemory } of cases) {
  const store = inMemory ? ', in-memory store' : ''
  test(`${signal} with a standby: the survivor restores a tail, not the changelog (${guarantee}${store})`, async () => {
    const appId = uniqueName('standby')
    const input = uniqueName('standby-in')
    const output = uniqueName('standby-out')
    const changelog = `${appId}-counts-changelog`
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'streamlane-standby-')))
    const admin = createAdmin({ brokers: testBrokers() })
    const start = (name: string, stateDir: string) =>
      new AppInstance(name, module, {
        STREAMLANE_APPLICATION_ID: appId,
        INPUT_TOPIC: input,
        OUTPUT_TOPIC: output,
        STREAMLANE_STATE_DIR: stateDir,
        STREAMLANE_PROCESSING_GUARANTEE: guarantee,
        STREAMLANE_NUM_STANDBY_REPLICAS: '1',
        STREAMLANE_SESSION_TIMEOUT_MS: '8000',
        STREAMLANE_HEARTBEAT_INTERVAL_MS: '1000',
        // Every update reaches the changelog: a full restore would be as large as the input.
        STREAMLANE_CACHE_MAX_BYTES: '0',
        STREAMLANE_METRICS_PORT: '0',
        COUNT_STORE_IN_MEMORY: String(inMemory)
      })
    const instances: AppInstance[] = []
    try {
      await createTopics([
        { name: input, partitions: PARTITIONS },
        { name: output, partitions: PARTITIONS }
      ])
      await produceRound(input, 20)
      const a = start('a', dirs[0]!)
      const b = start('b', dirs[1]!)
      instances.push(a, b)
      await waitFor('both instances run tasks', () => a.runningAssignment() && b.runningAssignment(), {
        timeoutMs: 60_000
      })
      await waitFor(
        'every input record committed',
        async () => (await committedInput(admin, appId, input)) === KEYS * 20,
        {
          timeoutMs: 90_000,
          intervalMs: 200
        }
      )
      const changelogEnds = await partitionEnds(admin, changelog)
      const outputEnd = await topicEnd(admin, output)
      // Both instances' last assignments must agree: each logs its own when it applies it, so right after a (probing)
      // rebalance one may still show the previous generation's tasks (seen once: b's standbys were not a's actives).
      // An in-memory copy has no checkpoint file: its reader's lag says it caught up (0; under exactly-once the end
      // is one past the last commit marker).
      const standbysCaughtUp = async (instance: AppInstance, i: number) => {
        const { standby } = replicaTasks(instance)
        if (standby.length !== 2 || !same(standby, activeTasks(instance === a ? b : a))) return false
        if (!inMemory) return checkpointsAtEnd(dirs[i]!, appId, changelog, standby, changelogEnds)
        const replicas = (await statusOf(instance)).replicas
        return standby.every((task) => replicas.some((r) => r.task === task && r.lag !== null && r.lag <= 1))
      }
      await waitFor(
        'each instance holds a caught-up standby of the other one',
        async () => (await standbysCaughtUp(a, 0)) && (await standbysCaughtUp(b, 1)),
        { timeoutMs: 90_000, intervalMs: 250 }
      ).catch((error: Error) => {
        // Where the copies were and which rebalances ran: the instances' assignment log lines.
        const relevant = /assignment running|warm-up tasks assigned|probing rebalance|promoted|demoted|"level":(40|50)/
        const logs = [a, b].map(
          (i) =>
            `${i.name}:\n${i.log
              .split('\n')
              .filter((l) => relevant.test(l))
              .join('\n')}`
        )
        throw new Error(`${error.message}\n${logs.join('\n')}`)
      })
      assert.deepEqual(replicaTasks(b).standby.sort(), activeTasks(a).sort(), "b's standbys are a's active tasks")
      // GET /status shows a person where the copies are: b's actives and its caught-up standbys.
      const status = await statusOf(b)
      assert.deepEqual(status.active.map((t) => t.task).sort(), activeTasks(b).sort())
      assert.deepEqual(
        status.replicas.map((r) => [r.task, r.kind]).sort(),
        replicaTasks(b)
          .standby.sort()
          .map((t) => [t, 'standby'])
      )
      // The metrics say the same: two standby tasks, no warm-up, caught up, having applied the other's changelog.
      assert.equal(await metricOf(b, 'streamlane_app_replica_tasks{kind="standby"}'), 2)
      assert.equal(await metricOf(b, 'streamlane_app_replica_tasks{kind="warmup"}'), 0)
      assert.ok(((await metricOf(b, 'streamlane_state_standby_lag_records')) ?? Infinity) <= 2, 'standby lag metric')
      assert.ok(((await metricOf(b, 'streamlane_state_standby_records_total')) ?? 0) > 0, 'standby records applied')
      // A standby writes nothing: neither the changelog nor the output moved while the standbys caught up.
      assert.deepEqual(await partitionEnds(admin, changelog), changelogEnds, 'changelog ends unchanged by standbys')
      assert.equal(await topicEnd(admin, output), outputEnd, 'output unchanged by standbys')

      const takenOver = activeTasks(a)
      const changelogOfTakenOver = takenOver.reduce(
        (sum, t) => sum + Number(changelogEnds.get(Number(t.split('_')[1]))!),
        0
      )
      const logMark = b.log.length
      a.signal(signal)
      await a.exited
      const killedAt = Date.now()
      await produceRound(input, 2)
      await waitFor('the survivor runs every task', () => activeTasks(b).length === PARTITIONS, { timeoutMs: 60_000 })
      const tookOverMs = Date.now() - killedAt
      await readTopic(
        output,
        PARTITIONS,
        (records) => {
          const latest = new Map<string, number>()
          for (const r of records) latest.set(r.key!.toString(), r.value!.readInt32BE(0))
          return latest.size === KEYS && [...latest.values()].every((c) => c === 22)
        },
        90_000
      )
      const restored = restoredRecords(b, logMark)
      console.log(
        `${guarantee}, ${signal}: took over ${takenOver.join(',')} (${changelogOfTakenOver} changelog records) in ${tookOverMs} ms, ` +
          `restoring ${restored} records`
      )
      assert.ok(logLines(b, 'standby tasks promoted to active', logMark).length > 0, 'a promotion was logged')
      assert.ok(restored <= changelogOfTakenOver * 0.01, `restored ${restored} of ${changelogOfTakenOver} records`)
      b.signal('SIGTERM')
      assert.equal(await b.exited, 0)
      // Exact: nothing was processed and left uncommitted when a was killed, so nothing was counted twice.
      const latest = new Map<string, number>()
      for (const r of await readToEnd(admin, output)) latest.set(r.key!.toString(), r.value!.readInt32BE(0))
      assert.equal(latest.size, KEYS)
      assert.deepEqual([...new Set(latest.values())], [22], 'every count is exactly 22')
    } finally {
      await killAll(instances)
      await admin.close()
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    }
  })
}
