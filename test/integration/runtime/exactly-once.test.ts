/**
 * Issue 5's acceptance test: exactly-once word count in 3 instances through 10 SIGKILLs of random instances and a
 * broker restart. Final counts read with read_committed equal the truth exactly; each word's count updates are
 * strictly increasing (no update of aborted work is ever visible); and a killed instance restarted with its state
 * directory plans its restoration from the checkpoints it kept and restores only a small fraction of the changelog.
 * Runs on a broker of its own, since it restarts it.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type Broker, startBroker } from '../../../scripts/kafka/broker.ts'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { createPartitionReader, OFFSET_EARLIEST } from '../../../src/kafka/partition-reader.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import { uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { AppInstance, killAll } from './instances.ts'
import { committedInput, topicEnd } from './support.ts'
import { WordCounts } from './word-counts.ts'

const LINES = Number(process.env.STREAMLANE_EOS_TEST_LINES ?? 1_000_000)
const WORDS = 500
const PARTITIONS = 6
const KILLS = 10
const module = fileURLToPath(new URL('../../../examples/word-count/app.ts', import.meta.url))

let broker: Broker
let brokerDir: string
let admin: KafkaAdmin

before(async () => {
  brokerDir = mkdtempSync(join(tmpdir(), 'streamlane-eos-broker-'))
  broker = await startBroker({ dir: brokerDir })
  admin = createAdmin({ brokers: [broker.bootstrap] })
})

after(async () => {
  await admin?.close()
  await broker?.stop()
  rmSync(brokerDir, { recursive: true, force: true })
})

/** The changelog partitions the instance planned to restore, with the checkpoint its state dir had for each. */
function restorePlans(instance: AppInstance): { checkpoint: string | null; end: string }[] {
  return instance.log
    .split('\n')
    .filter((line) => line.includes('"msg":"restore plan"'))
    .flatMap((line) => (JSON.parse(line) as { changelogs: { checkpoint: string | null; end: string }[] }).changelogs)
}

function restores(instance: AppInstance): number {
  let total = 0
  for (const line of instance.log.split('\n')) {
    if (line.includes('"msg":"task restored"')) total += (JSON.parse(line) as { records: number }).records
  }
  return total
}

async function readAll(topic: string): Promise<ConsumedRecord[]> {
  const ends = (await admin.listOffsets([{ topic }], 'latest', { isolation: 'read_committed' })).get(topic)!
  const reader = createPartitionReader({ brokers: [broker.bootstrap], isolation: 'read_committed', copyBuffers: true })
  const records: ConsumedRecord[] = []
  try {
    await reader.assign([...ends.keys()].map((partition) => ({ topic, partition, offset: OFFSET_EARLIEST })))
    const done = () => [...ends].every(([p, end]) => (reader.position(topic, p) ?? 0n) >= end)
    const deadline = Date.now() + 60_000
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out reading ${topic}`)
      records.push(...(await reader.poll(200)))
    }
    return records
  } finally {
    await reader.close()
  }
}

test('exactly-once word count through 10 SIGKILLs and a broker restart counts every word exactly', async () => {
  const appId = uniqueName('eos')
  const lines = uniqueName('eos-lines')
  const counts = uniqueName('eos-counts')
  const changelog = `${appId}-counts-changelog`
  await admin.createTopics([
    { name: lines, partitions: PARTITIONS },
    { name: counts, partitions: PARTITIONS }
  ])
  const producer = createProducer({ brokers: [broker.bootstrap] })
  for (let from = 0; from < LINES; from += 20_000) {
    const batch = []
    for (let i = from; i < Math.min(LINES, from + 20_000); i++) {
      batch.push({ topic: lines, key: Buffer.from(String(i)), value: Buffer.from(`w${i % WORDS}`) })
    }
    await producer.send(batch)
  }
  await producer.close()

  const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), 'streamlane-eos-state-')))
  const all: AppInstance[] = []
  const running: AppInstance[] = []
  const start = (slot: number) => {
    const instance = new AppInstance(`eos-${slot}`, module, {
      KAFKA_BROKERS: broker.bootstrap,
      STREAMLANE_APPLICATION_ID: appId,
      STREAMLANE_PROCESSING_GUARANTEE: 'exactly_once_v2',
      LINES_TOPIC: lines,
      WORD_COUNTS_TOPIC: counts,
      STREAMLANE_STATE_DIR: dirs[slot]!,
      STREAMLANE_GROUP_INSTANCE_ID: `eos-${slot}`,
      STREAMLANE_SESSION_TIMEOUT_MS: '10000',
      STREAMLANE_HEARTBEAT_INTERVAL_MS: '1000',
      // Each restart must take its own tasks back and restore them from its checkpoints, which the assertions below
      // measure. With high availability (the default) a restart may first get warm-ups; the chaos test runs that.
      STREAMLANE_HIGH_AVAILABILITY: 'false'
    })
    all.push(instance)
    running[slot] = instance
    return instance
  }
  const consumed = () => committedInput(admin, appId, lines)
  const changelogTotal = () => topicEnd(admin, changelog)
  try {
    for (const slot of [0, 1, 2]) start(slot)
    await waitFor('three instances running', () => running.every((i) => i.runningAssignment()), { timeoutMs: 60_000 })

    const fractions: string[] = []
    let seed = 7
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    for (let kill = 0; kill < KILLS; kill++) {
      const before = await consumed()
      // Kill while work is in flight, a little further into the input each time.
      await waitFor(
        'progress before the next kill',
        async () => (await consumed()) >= Math.min(LINES * 0.9, before + LINES / (KILLS + 4)),
        { timeoutMs: 120_000, intervalMs: 100 }
      )
      if (kill === Math.floor(KILLS / 2)) await broker.restart()
      const slot = Math.floor(random() * 3)
      running[slot]!.signal('SIGKILL')
      await running[slot]!.exited
      const written = await changelogTotal()
      const restarted = start(slot)
      await waitFor(`instance ${slot} running again`, () => restarted.runningAssignment(), { timeoutMs: 60_000 }).catch(
        (error: Error) => assert.fail(`${error.message}; its log:\n${restarted.log.slice(-3000)}`)
      )
      // Restoration ran and started from the checkpoints the state dir kept (not from an empty store).
      const plans = restorePlans(restarted)
      assert.ok(
        plans.some((plan) => plan.checkpoint !== null && plan.end !== '0'),
        `restart ${kill + 1} found no checkpoint in its state dir: ${JSON.stringify(plans)}`
      )
      fractions.push(`${restores(restarted)}/${written}`)
      // At most the last commit's worth, if the kill landed between the Kafka commit and the local one: with the
      // record cache that is one update per word, which early in the run can exceed 10% of a short changelog.
      assert.ok(
        restores(restarted) < Math.max(written * 0.1, WORDS),
        `restart ${kill + 1} restored ${restores(restarted)} of ${written}`
      )
    }
    console.log(`restored after each SIGKILL (records/changelog): ${fractions.join(' ')}`)

    await waitFor('all input consumed', async () => (await consumed()) >= LINES, {
      timeoutMs: 240_000,
      intervalMs: 200
    })
    const { latest, notIncreasing } = new WordCounts().add(await readAll(counts))
    assert.equal(latest.size, WORDS)
    for (const [word, count] of latest) assert.equal(count, BigInt(LINES / WORDS), `count of ${word}`)
    assert.deepEqual(notIncreasing.slice(0, 10), [], 'count updates that repeat or go back: aborted work made visible')
    for (const instance of running) instance.signal('SIGTERM')
    for (const instance of running) assert.equal(await instance.exited, 0)
  } finally {
    await killAll(all)
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
})
