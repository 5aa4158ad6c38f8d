/**
 * The differential suite on the broker: a session-windowed count (the window type whose lateness rules Streamlane
 * got wrong before issue 15) runs through the real runtime on seeded out-of-order input with late records, null
 * keys and null values, and its final results (the table its output topic describes: the last update per session,
 * merged-away sessions deleted) equal those of Kafka Streams' own TopologyTestDriver on the same input. One input
 * partition keeps stream time, and so lateness, the same as in the driver. Intermediate updates may differ (the
 * runtime's cache flushes on its commit interval), final results may not.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { CACHE_OFF, type ConformanceCase, generateEvents } from '../../conformance/cases.ts'
import type { OutputRecord } from '../../conformance/compare.ts'
import { runKafkaStreams } from '../../conformance/kafka-streams-peer.ts'
import { buildTopology } from '../../conformance/topologies.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, readTopic, topicEnd } from './support.ts'

const hex = (bytes: Buffer | null) => (bytes === null ? null : bytes.toString('hex'))

/** The table an output topic of table updates describes: the last value per key, a null value deleting the key. */
function finalTable(records: readonly Pick<OutputRecord, 'key' | 'value'>[]): Map<string, string> {
  const table = new Map<string, string>()
  for (const { key, value } of records) {
    const k = hex(key)!
    const v = hex(value)
    if (v === null) table.delete(k)
    else table.set(k, v)
  }
  return table
}

test('session-windowed counts on the broker end with the final results of Kafka Streams on the same out-of-order input', async () => {
  const events = generateEvents(1507, {
    records: 300,
    keys: ['a', 'b', 'c'],
    nullKeys: 0.05,
    nullValues: 0.1,
    topics: ['in']
  }).filter((e) => e.kind === 'pipe')
  const c: ConformanceCase = {
    id: 'broker/session-count',
    topology: 'session-count',
    params: { gap: 3000, grace: 2000 },
    // Kafka Streams without its record cache: with it, Kafka Streams may merge a closed session still in the cache
    // into a new one, a listed deliberate difference (test/conformance/differences.ts).
    cacheMaxBytes: CACHE_OFF,
    events
  }
  const expected = finalTable((await runKafkaStreams([c])).get(c.id)!.records)
  assert.ok(expected.size > 20, 'the input makes many sessions')

  const input = uniqueName('sessions-in')
  const output = uniqueName('sessions-out')
  await createTopics([
    { name: input, partitions: 1 },
    { name: output, partitions: 1 }
  ])
  const producer = createProducer({ brokers: testBrokers() })
  await producer.send(
    events.map((e) => ({
      topic: input,
      partition: 0,
      key: e.key === null ? null : Buffer.from(e.key),
      value: e.value === null ? null : Buffer.from(e.value),
      timestamp: e.timestamp
    }))
  )
  await producer.close()

  const app = new StreamlaneApp(buildTopology(c.topology, c.params, { input, output }), {
    applicationId: uniqueName('sessions'),
    bootstrapServers: testBrokers(),
    commitIntervalMs: 200
  })
  const admin = createAdmin({ brokers: testBrokers() })
  await app.start()
  try {
    await waitFor('every input record processed and committed', () => {
      const { processed, committed } = app.progress()
      return processed === events.length && committed === processed
    })
    const written = await topicEnd(admin, output)
    const records = await readTopic(output, 1, (r) => r.length >= written)
    assert.deepEqual(finalTable(records), expected)
    assert.ok((app.droppedRecords().late ?? 0) > 0, 'some records were late')
  } finally {
    await app.close()
    await admin.close()
  }
})
