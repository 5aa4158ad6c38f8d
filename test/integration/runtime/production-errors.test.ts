/**
 * Records the broker refuses (here: larger than the output topic's max.message.bytes) go to the production
 * handler one by one; the good records sent in the same batch are still written, and the default handler stops
 * the app with an error naming the topic.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorHandlers, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { produceNumbered, readTopic } from './support.ts'

const RECORDS = 2_000

/** Every 100th record is inflated past the output topic's 10 kB record limit. */
function inflatingTopology(input: string, output: string) {
  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .mapValues((value) => (Number(value) % 100 === 0 ? value.padEnd(20_000, '!') : value))
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
  return builder.build()
}

async function setup() {
  const input = uniqueName('prod-err-in')
  const output = uniqueName('prod-err-out')
  const dlq = uniqueName('prod-err-dlq')
  const admin = createAdmin({ brokers: testBrokers() })
  await admin.createTopics([
    { name: input, partitions: 2 },
    { name: output, partitions: 2, configs: { 'max.message.bytes': '10240' } },
    { name: dlq, partitions: 1 }
  ])
  await admin.close()
  await produceNumbered(input, RECORDS)
  return { input, output, dlq }
}

test('log-and-continue skips only the refused records; every good record of the same batches is written', async () => {
  const { input, output } = await setup()
  const app = new StreamlaneApp(
    inflatingTopology(input, output),
    { applicationId: uniqueName('prod-err-app'), bootstrapServers: testBrokers(), commitIntervalMs: 200 },
    { errorHandlers: { production: ErrorHandlers.logAndContinue({ logger: { warn() {} } }) } }
  )
  await app.start()
  try {
    const expected = RECORDS - RECORDS / 100
    const records = await readTopic(output, 2, (r) => r.length >= expected)
    const values = new Set(records.map((r) => Number(r.value!.toString())))
    assert.equal(values.size, expected)
    for (let i = 0; i < RECORDS; i++) assert.equal(values.has(i), i % 100 !== 0, `record ${i}`)
    await waitFor('all offsets committed', () => app.progress().committed === RECORDS)
    assert.equal(app.state, 'RUNNING')
    // Log-and-continue is counted: the refused records are the production stage's skips.
    assert.match(
      await app.metrics().metrics(),
      new RegExp(`^streamlane_task_records_skipped_total\\{stage="production"\\} ${RECORDS / 100}$`, 'm')
    )
  } finally {
    await app.close()
  }
})

test('by default a refused record stops the app with an error naming the topic', async () => {
  const { input, output } = await setup()
  const app = new StreamlaneApp(inflatingTopology(input, output), {
    applicationId: uniqueName('prod-err-fail'),
    bootstrapServers: testBrokers(),
    commitIntervalMs: 200
  })
  const failed = new Promise<Error>((resolve) => app.onError(resolve))
  await app.start()
  try {
    const error = await failed
    assert.equal(app.state, 'ERROR')
    assert.match(error.message, new RegExp(`to topic ${output}`))
  } finally {
    await app.close()
  }
})
