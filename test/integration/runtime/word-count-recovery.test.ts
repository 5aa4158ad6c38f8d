/**
 * Issue 4's recovery test: word count over 1M records in 2 instances. One instance is SIGKILLed and restarted at
 * once with its state directory: it restores only the changelog records its checkpoint does not cover. The other is
 * SIGKILLed and restarted with an EMPTY state directory: its stores are rebuilt from the changelog. Final counts
 * are never below the truth (at-least-once may overcount).
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
import { committedInput, createTopics, readTopic, topicEnd } from './support.ts'

const LINES = 1_000_000
const WORDS = 1_000
const PARTITIONS = 4
const module = fileURLToPath(new URL('../../../examples/word-count/app.ts', import.meta.url))

/** Records restored, summed over the instance's "task restored" log lines. */
function restoredRecords(instance: AppInstance): number {
  let total = 0
  for (const line of instance.log.split('\n')) {
    if (line.includes('"msg":"task restored"')) total += (JSON.parse(line) as { records: number }).records
  }
  return total
}

test('word count survives SIGKILLs: delta restore with the state dir, full rebuild without, counts never low', async () => {
  const appId = uniqueName('wc')
  const lines = uniqueName('wc-lines')
  const counts = uniqueName('wc-counts')
  const changelog = `${appId}-counts-changelog`
  const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), 'streamlane-wc-')))
  const admin = createAdmin({ brokers: testBrokers() })
  const instances: AppInstance[] = []
  const start = (name: string, stateDir: string) => {
    const instance = new AppInstance(name, module, {
      STREAMLANE_APPLICATION_ID: appId,
      LINES_TOPIC: lines,
      WORD_COUNTS_TOPIC: counts,
      STREAMLANE_STATE_DIR: stateDir,
      STREAMLANE_GROUP_INSTANCE_ID: name,
      STREAMLANE_SESSION_TIMEOUT_MS: '20000',
      STREAMLANE_HEARTBEAT_INTERVAL_MS: '1000',
      STREAMLANE_COMMIT_INTERVAL_MS: '250',
      // Every update reaches the changelog, so "restored a small fraction of it" is a sharp measurement.
      STREAMLANE_CACHE_MAX_BYTES: '0',
      // This test measures restoration by the task's new owner (delta with the state dir, full without). With high
      // availability (the default) an empty newcomer warms up instead: see the high-availability tests.
      STREAMLANE_HIGH_AVAILABILITY: 'false'
    })
    instances.push(instance)
    return instance
  }
  const consumed = () => committedInput(admin, appId, lines)
  const changelogTotal = () => topicEnd(admin, changelog)
  try {
    await createTopics([
      { name: lines, partitions: PARTITIONS },
      { name: counts, partitions: PARTITIONS }
    ])
    const producer = createProducer({ brokers: testBrokers() })
    for (let startAt = 0; startAt < LINES; startAt += 20_000) {
      const batch = []
      for (let i = startAt; i < startAt + 20_000; i++)
        batch.push({ topic: lines, key: Buffer.from(String(i)), value: Buffer.from(`w${i % WORDS}`) })
      await producer.send(batch)
    }
    await producer.close()

    const a = start('wc-a', dirs[0]!)
    const b = start('wc-b', dirs[1]!)
    await waitFor('both instances running', () => a.runningAssignment() && b.runningAssignment(), { timeoutMs: 60_000 })
    await waitFor('40% consumed', async () => (await consumed()) >= LINES * 0.4, {
      timeoutMs: 180_000,
      intervalMs: 200
    })

    b.signal('SIGKILL')
    await b.exited
    const written = await changelogTotal()
    const b2 = start('wc-b', dirs[1]!)
    await waitFor('the restarted instance runs its tasks', () => b2.runningAssignment(), { timeoutMs: 60_000 })
    await waitFor('70% consumed', async () => (await consumed()) >= LINES * 0.7, {
      timeoutMs: 180_000,
      intervalMs: 200
    })
    // The counting tasks (sub-topology 1) are spread over both instances: the restarted one holds some of them.
    assert.match(b2.log, /"active":\[[^\]]*"1_\d+"/, 'the restarted instance runs counting tasks')
    const delta = restoredRecords(b2)
    console.log(`restart with its state dir: restored ${delta} of ${written} changelog records`)
    assert.ok(delta < written * 0.1, `restored ${delta} of ${written} changelog records: not a small fraction`)

    a.signal('SIGKILL')
    await a.exited
    const a2 = start('wc-a', dirs[2]!)
    await waitFor('the instance with an empty state dir restored its stores', () => restoredRecords(a2) > 0, {
      timeoutMs: 60_000
    })
    console.log(`restart with an empty state dir: restored ${restoredRecords(a2)} changelog records`)

    const output = await readTopic(
      counts,
      PARTITIONS,
      (records) => {
        const latest = new Map<string, bigint>()
        for (const r of records) latest.set(r.key!.toString(), r.value!.readBigInt64BE(0))
        return latest.size === WORDS && [...latest.values()].every((c) => c >= BigInt(LINES / WORDS))
      },
      240_000
    )
    const latest = new Map<string, bigint>()
    for (const r of output) latest.set(r.key!.toString(), r.value!.readBigInt64BE(0))
    const over = [...latest.values()].filter((c) => c > BigInt(LINES / WORDS)).length
    console.log(`final counts: ${latest.size} words, ${over} overcounted (at-least-once replays after the kills)`)
    for (const instance of [a2, b2]) instance.signal('SIGTERM')
    for (const instance of [a2, b2]) assert.equal(await instance.exited, 0)
  } finally {
    await killAll(instances)
    await admin.close()
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
})
