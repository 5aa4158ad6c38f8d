/**
 * Readiness means ready: an instance that restores a large changelog into an empty state dir answers /ready with 503
 * for as long as any of its tasks has changelog records left to restore, and 200 once every task restored and
 * processes (Kubernetes rolling updates and KEDA scale-outs wait on exactly that).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createProducer } from '../../../src/kafka/producer.ts'
import type { TaskRestoreProgress } from '../../../src/runtime/state-restorer.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { COUNT_KEYS, latestCounts, COUNT_PARTITIONS as PARTITIONS, produceRound } from '../runtime/count-app.ts'
import { countTopology } from '../runtime/fixtures/count-topology.ts'
import { createTopics, readTopic } from '../runtime/support.ts'

/** Changelog records to restore: a few restore batches (50,000 records each) per task, about a second in all. */
const CHANGELOG_RECORDS = 400_000

/** Writes the store's changelog directly: keys the input never has, each with a count, spread over the partitions. */
async function fillChangelog(topic: string, records: number): Promise<void> {
  const producer = createProducer({ brokers: testBrokers(), lingerMs: 20 })
  try {
    const count = Buffer.alloc(4)
    count.writeInt32BE(1)
    for (let start = 0; start < records; start += 20_000) {
      const batch = []
      for (let i = start; i < Math.min(records, start + 20_000); i++)
        batch.push({ topic, partition: i % PARTITIONS, key: Buffer.from(`restored-${i}`), value: count })
      await producer.send(batch)
    }
  } finally {
    await producer.close()
  }
}

test('/ready answers 503 while tasks restore and 200 once every task restored and processes', async () => {
  const input = uniqueName('ready-in')
  const output = uniqueName('ready-out')
  const appId = uniqueName('ready-app')
  const stateDir = mkdtempSync(join(tmpdir(), 'streamlane-state-'))
  const changelog = `${appId}-counts-changelog`
  await createTopics([
    { name: input, partitions: PARTITIONS },
    { name: output, partitions: PARTITIONS },
    { name: changelog, partitions: PARTITIONS }
  ])
  await fillChangelog(changelog, CHANGELOG_RECORDS)
  await produceRound(input, 3)

  const app = new StreamlaneApp(countTopology(input, output), {
    applicationId: appId,
    bootstrapServers: testBrokers(),
    stateDir,
    commitIntervalMs: 200,
    metricsPort: 0,
    metricsHost: '127.0.0.1'
  })
  const latest = new Map<string, TaskRestoreProgress>()
  app.onRestoreProgress((progress) => latest.set(progress.taskId, progress))
  const recordsLeft = () => [...latest.values()].reduce((sum, p) => sum + p.recordsTotal - p.recordsDone, 0)
  const observed: { status: number; state: string; recordsLeft: number }[] = []
  try {
    const starting = app.start()
    await waitFor('the endpoint to listen', () => app.httpPort())
    const url = `http://127.0.0.1:${app.httpPort()}/ready`
    // The probe, as the kubelet runs it, polled until the app says it is ready.
    await waitFor(
      '/ready to answer 200',
      async () => {
        const response = await fetch(url)
        const { state } = (await response.json()) as { state: string }
        observed.push({ status: response.status, state, recordsLeft: recordsLeft() })
        return response.status === 200
      },
      { timeoutMs: 60_000, intervalMs: 20 }
    )
    await starting

    const restoring = observed.filter((o) => o.recordsLeft > 0)
    assert.ok(restoring.length > 0, `the probe saw the restoration going on: ${JSON.stringify(observed.slice(-5))}`)
    for (const o of restoring) assert.equal(o.status, 503, `not ready while ${o.recordsLeft} records are left`)
    assert.ok(
      restoring.some((o) => o.state === 'REBALANCING'),
      'a restoring instance reports REBALANCING, as Kafka Streams does'
    )
    for (const o of observed.filter((o) => o.status === 200)) {
      assert.equal(o.recordsLeft, 0, 'ready only once nothing is left to restore')
      assert.equal(o.state, 'RUNNING')
    }
    const finished = [...latest.values()]
    assert.equal(finished.length, PARTITIONS, 'every task restored')
    assert.ok(finished.every((p) => p.finished))
    assert.equal(
      finished.reduce((sum, p) => sum + p.recordsRestored, 0),
      CHANGELOG_RECORDS,
      'the whole changelog restored'
    )
    assert.equal(app.ready, true)

    // Ready means processing: the input written before the start is counted.
    await readTopic(output, PARTITIONS, (records) => {
      const counts = latestCounts(records)
      return counts.size === COUNT_KEYS && [...counts.values()].every((c) => c === 3)
    })
    assert.equal((await fetch(url)).status, 200)
  } finally {
    await app.close()
    rmSync(stateDir, { recursive: true, force: true })
  }
  assert.equal(app.ready, false, 'not ready once closed')
  console.log(
    `readiness: ${observed.length} probes, ${observed.filter((o) => o.status === 503 && o.recordsLeft > 0).length} ` +
      `answered 503 while records were left to restore (up to ${Math.max(...observed.map((o) => o.recordsLeft))}), then 200`
  )
})
