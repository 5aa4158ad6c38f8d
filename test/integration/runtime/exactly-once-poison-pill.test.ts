/**
 * Under exactly-once a poison pill goes to the dead-letter handler and its dead-letter record is part of the
 * transaction: read_committed readers see it together with the outputs of the records around it, exactly once.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorHandlers, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { createTopics, readTopic } from './support.ts'

test('a poison pill under exactly-once is dead-lettered inside the transaction; the other records come out once', async () => {
  const input = uniqueName('eos-pill-in')
  const output = uniqueName('eos-pill-out')
  const dlq = uniqueName('eos-pill-dlq')
  await createTopics([
    { name: input, partitions: 2 },
    { name: output, partitions: 2 },
    { name: dlq, partitions: 1 }
  ])
  const producer = createProducer({ brokers: testBrokers() })
  const values = Array.from({ length: 1_000 }, (_, i) => (i === 500 ? 'not json {' : JSON.stringify({ n: i })))
  await producer.send(
    values.map((value, i) => ({ topic: input, key: Buffer.from(`k${i}`), value: Buffer.from(value) }))
  )
  await producer.close()

  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.json<{ n: number }>() })
    .mapValues((value) => value.n * 2)
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.int32() })
  const app = new StreamlaneApp(
    builder.build(),
    { applicationId: uniqueName('eos-pill'), bootstrapServers: testBrokers(), processingGuarantee: 'exactly_once_v2' },
    { errorHandlers: { deserialization: ErrorHandlers.deadLetter(dlq, { logger: { warn() {} } }) } }
  )
  await app.start()
  try {
    const outputs = await readTopic(output, 2, (r) => r.length >= 999)
    assert.equal(new Set(outputs.map((r) => r.key!.toString())).size, 999)
    const dead = await readTopic(dlq, 1, (r) => r.length >= 1)
    assert.equal(dead.length, 1)
    assert.equal(dead[0]!.value!.toString(), 'not json {')
    assert.equal(dead[0]!.key!.toString(), 'k500')
  } finally {
    await app.close()
  }
  // Nothing more arrived after close: no duplicates from replays.
  assert.equal((await readTopic(output, 2, (r) => r.length >= 999)).length, 999)
})
