/**
 * Drives the per-key count fixture (fixtures/count-topology.ts) in-process: rounds of input where every key occurs
 * the same number of times, and a run until the output shows every key at the expected count.
 */
import { createProducer } from '../../../src/kafka/producer.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import type { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { readTopic } from './support.ts'

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
