import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, produceNumbered, readTopic } from './support.ts'

test('a map/filter app processes every record once and commits its offsets', async () => {
  const input = uniqueName('in')
  const output = uniqueName('out')
  const appId = uniqueName('app')
  await createTopics([
    { name: input, partitions: 4 },
    { name: output, partitions: 4 }
  ])
  await produceNumbered(input, 10_000)

  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .mapValues((value) => Number(value))
    .filter((_, value) => value % 2 === 0)
    .mapValues((value) => String(value * 10))
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.string() })

  const app = new StreamlaneApp(builder.build(), {
    applicationId: appId,
    bootstrapServers: testBrokers(),
    commitIntervalMs: 200
  })
  await app.start()
  try {
    assert.equal(app.state, 'RUNNING')
    assert.equal(app.activeTasks().length, 4)
    const records = await readTopic(output, 4, (r) => r.length >= 5_000)
    const values = records.map((r) => Number(r.value!.toString())).sort((a, b) => a - b)
    assert.equal(values.length, 5_000)
    assert.deepEqual(
      values,
      Array.from({ length: 5_000 }, (_, i) => i * 20)
    )
    await waitFor('offsets of all 10000 records committed', () => app.progress().committed === 10_000)
  } finally {
    await app.close()
  }
  assert.equal(app.state, 'NOT_RUNNING')
})

test('a pattern source reads every matching topic; a pattern that matches nothing is an error at start', async () => {
  const prefix = uniqueName('pattern')
  const output = uniqueName('pattern-out')
  await createTopics([
    { name: `${prefix}-a`, partitions: 2 },
    { name: `${prefix}-b`, partitions: 2 },
    { name: output, partitions: 2 }
  ])
  await produceNumbered(`${prefix}-a`, 100)
  await produceNumbered(`${prefix}-b`, 50)
  const topology = (pattern: RegExp) => {
    const builder = new StreamsBuilder()
    builder.stream(pattern, { keySerde: Serdes.string(), valueSerde: Serdes.string() }).to(output)
    return builder.build()
  }
  const app = new StreamlaneApp(topology(new RegExp(`${prefix}-.*`)), {
    applicationId: uniqueName('pattern-app'),
    bootstrapServers: testBrokers()
  })
  await app.start()
  try {
    const records = await readTopic(output, 2, (r) => r.length >= 150)
    assert.equal(records.length, 150)
  } finally {
    await app.close()
  }

  const nothing = new StreamlaneApp(topology(new RegExp(`${prefix}-none-.*`)), {
    applicationId: uniqueName('pattern-none'),
    bootstrapServers: testBrokers()
  })
  await assert.rejects(nothing.start(), /no topic matches the source pattern/)
  assert.equal(nothing.state, 'ERROR')
})
