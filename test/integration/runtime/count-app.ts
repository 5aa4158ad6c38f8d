/**
 * Drives the per-key count fixture (fixtures/count-topology.ts) in-process: its topics and state directories, rounds
 * of input where every key occurs the same number of times, and a run until the output shows every key at the
 * expected count.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { countTopology } from './fixtures/count-topology.ts'
import { createTopics, readTopic } from './support.ts'

export const COUNT_KEYS = 100
export const COUNT_PARTITIONS = 4

/** Produces `perKey` records for each of the COUNT_KEYS keys. */
export async function produceRound(topic: string, perKey: number): Promise<void> {
  const producer = createProducer({ brokers: testBrokers() })
  const records = []
  for (let n = 0; n < perKey; n++)
    for (let k = 0; k < COUNT_KEYS; k++) records.push({ topic, key: Buffer.from(`key-${k}`), value: Buffer.from('x') })
  await producer.send(records)
  await producer.close()
}

/** The latest count per key in the output topic. */
export function latestCounts(records: readonly ConsumedRecord[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of records) counts.set(r.key!.toString(), r.value!.readInt32BE(0))
  return counts
}

/** Starts the app and waits until every key's latest output count is `expected` and its offsets are committed. */
export async function runUntilCounts(app: StreamlaneApp, output: string, expected: number): Promise<void> {
  await app.start()
  await readTopic(output, COUNT_PARTITIONS, (records) => {
    const counts = latestCounts(records)
    return counts.size === COUNT_KEYS && [...counts.values()].every((c) => c === expected)
  })
  await waitFor('offsets committed', () => app.progress().committed === app.progress().processed)
}

/** A count app's topics, created, with two state directories to restart it with, and an admin to look at the topics. */
export interface CountAppSetup {
  input: string
  output: string
  appId: string
  /** The count store's changelog topic. */
  changelog: string
  /** Kept between instances: a restart with its state directory. */
  stateDir: string
  /** Left empty: a restart on a new volume, which restores everything from the changelog. */
  emptyStateDir: string
  admin: KafkaAdmin
  /** A new instance of the app (no cache, so every count update reaches the changelog) on `stateDir`. */
  app(stateDir: string): StreamlaneApp
  /** Closes the admin and deletes both state directories. */
  close(): Promise<void>
}

/** Creates the input and output topics (COUNT_PARTITIONS each) of a count app named after `name`. */
export async function setUpCountApp(name: string): Promise<CountAppSetup> {
  const input = uniqueName(`${name}-in`)
  const output = uniqueName(`${name}-out`)
  const appId = uniqueName(`${name}-app`)
  const stateDir = mkdtempSync(join(tmpdir(), 'streamlane-state-'))
  const emptyStateDir = mkdtempSync(join(tmpdir(), 'streamlane-state-'))
  const admin = createAdmin({ brokers: testBrokers() })
  const setup: CountAppSetup = {
    input,
    output,
    appId,
    changelog: `${appId}-counts-changelog`,
    stateDir,
    emptyStateDir,
    admin,
    app: (dir) =>
      new StreamlaneApp(countTopology(input, output), {
        applicationId: appId,
        bootstrapServers: testBrokers(),
        stateDir: dir,
        commitIntervalMs: 200,
        cacheMaxBytes: 0
      }),
    async close() {
      await admin.close()
      rmSync(stateDir, { recursive: true, force: true })
      rmSync(emptyStateDir, { recursive: true, force: true })
    }
  }
  try {
    await createTopics([
      { name: input, partitions: COUNT_PARTITIONS },
      { name: output, partitions: COUNT_PARTITIONS }
    ])
  } catch (error) {
    await setup.close()
    throw error
  }
  return setup
}
