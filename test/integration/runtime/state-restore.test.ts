/**
 * Stores are a cache of their changelog: a restart with the same state directory restores only what the checkpoint
 * does not cover, a restart with an empty one rebuilds the stores from the changelog, and counts carry on exactly.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { countTopology } from './fixtures/count-topology.ts'
import { createTopics, readTopic } from './support.ts'

const KEYS = 100
const PARTITIONS = 4

async function produceRound(topic: string, perKey: number): Promise<void> {
  const producer = createProducer({ brokers: testBrokers() })
  const records = []
  for (let n = 0; n < perKey; n++)
    for (let k = 0; k < KEYS; k++) records.push({ topic, key: Buffer.from(`key-${k}`), value: Buffer.from('x') })
  await producer.send(records)
  await producer.close()
}

/** The latest count per key in the output topic. */
function latestCounts(records: ConsumedRecord[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of records) counts.set(r.key!.toString(), r.value!.readInt32BE(0))
  return counts
}

async function runUntilCounts(app: StreamlaneApp, output: string, expected: number): Promise<void> {
  await app.start()
  await readTopic(output, PARTITIONS, (records) => {
    const counts = latestCounts(records)
    return counts.size === KEYS && [...counts.values()].every((c) => c === expected)
  })
  await waitFor('offsets committed', () => app.progress().committed === app.progress().processed)
  await app.close()
}

test('a restart restores only the delta with its state dir and everything without it; counts stay exact', async () => {
  const input = uniqueName('count-in')
  const output = uniqueName('count-out')
  const appId = uniqueName('count-app')
  const changelog = `${appId}-counts-changelog`
  const stateDir = mkdtempSync(join(tmpdir(), 'streamlane-state-'))
  const emptyStateDir = mkdtempSync(join(tmpdir(), 'streamlane-state-'))
  const admin = createAdmin({ brokers: testBrokers() })
  const app = (dir: string) =>
    new StreamlaneApp(countTopology(input, output), {
      applicationId: appId,
      bootstrapServers: testBrokers(),
      stateDir: dir,
      commitIntervalMs: 200,
      cacheMaxBytes: 0
    })
  try {
    await createTopics([
      { name: input, partitions: PARTITIONS },
      { name: output, partitions: PARTITIONS }
    ])
    await produceRound(input, 50)
    await runUntilCounts(app(stateDir), output, 50)
    const changelogEnd = async () => {
      let total = 0n
      for (const offset of (await admin.listOffsets([{ topic: changelog }], 'latest')).get(changelog)!.values())
        total += offset
      return Number(total)
    }
    assert.equal(await changelogEnd(), KEYS * 50, 'every count update is in the changelog (no cache)')
    const [description] = await admin.describeTopics([changelog])
    assert.equal(description!.partitions.length, PARTITIONS)
    assert.equal((await admin.describeTopicConfigs(changelog))['cleanup.policy'], 'compact')

    // Same state dir: the checkpoint covers the whole changelog, nothing to restore.
    await produceRound(input, 5)
    const withState = app(stateDir)
    await runUntilCounts(withState, output, 55)
    assert.equal(withState.progress().restored, 0, 'a clean restart with its state dir restores nothing')

    // Empty state dir: the stores are rebuilt from the changelog, and the counts go on from there.
    await produceRound(input, 5)
    const fresh = app(emptyStateDir)
    await runUntilCounts(fresh, output, 60)
    const restored = fresh.progress().restored
    assert.ok(restored >= KEYS && restored <= KEYS * 55, `restored ${restored} changelog records`)
  } finally {
    await admin.close()
    rmSync(stateDir, { recursive: true, force: true })
    rmSync(emptyStateDir, { recursive: true, force: true })
  }
})
