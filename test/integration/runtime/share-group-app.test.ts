/**
 * Streamlane apps on a share group: several instances share one partition (scaling past the partition count), every
 * record's output is written once, and a record that keeps failing is released, then rejected and dead-lettered on
 * its last allowed delivery.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  type Processor,
  type ProcessorContext,
  resolveConfig,
  Serdes,
  ShareGroupApp,
  Topology
} from '../../../src/index.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, readTopic } from './support.ts'

const apps: ShareGroupApp[] = []
after(async () => {
  for (const app of apps) await app.close()
})

/** Uppercases each value after `workMs` of asynchronous work; throws for the value `poison`. */
function slowUpper(workMs: number): () => Processor<string, string, string, string> {
  return () => {
    let context: ProcessorContext<string, string>
    return {
      init(c) {
        context = c
      },
      async process(record) {
        await sleep(workMs)
        if (record.value === 'poison') throw new Error('cannot process poison')
        await context.forward({ ...record, value: record.value.toUpperCase() })
      }
    }
  }
}

function topology(input: string, output: string, workMs: number): Topology {
  const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() }
  return new Topology()
    .addSource('in', input, strings)
    .addProcessor('upper', slowUpper(workMs), 'in')
    .addSink('out', output, strings, 'upper')
}

async function setup(values: string[]) {
  const input = uniqueName('share-app-in')
  const output = uniqueName('share-app-out')
  const dlq = uniqueName('share-app-dlq')
  await createTopics([
    { name: input, partitions: 1 },
    { name: output, partitions: 1 },
    { name: dlq, partitions: 1 }
  ])
  return { input, output, dlq, produce: () => produce(input, values) }
}

/** One batch per record, so the broker can hand consecutive records to different members. */
async function produce(topic: string, values: string[]): Promise<void> {
  const producer = createProducer({ brokers: testBrokers() })
  try {
    for (const [i, value] of values.entries()) {
      await producer.send([{ topic, key: Buffer.from(`k${i}`), value: Buffer.from(value) }])
    }
  } finally {
    await producer.close()
  }
}

function app(
  applicationId: string,
  t: Topology,
  shareGroup: { concurrency: number; maxDeliveries?: number; deadLetterTopic?: string }
): ShareGroupApp {
  const config = resolveConfig({
    applicationId,
    bootstrapServers: testBrokers(),
    shareGroup: { autoOffsetReset: 'earliest', recordLockDurationMs: 5_000, ...shareGroup }
  })
  const a = new ShareGroupApp(t, config)
  apps.push(a)
  return a
}

test('three instances with concurrency 2 share one partition; every record is written once', async () => {
  const values = Array.from({ length: 24 }, (_, i) => `v${i}`)
  const { input, output, produce } = await setup(values)
  const applicationId = uniqueName('share-app')
  const instances = [0, 1, 2].map(() => app(applicationId, topology(input, output, 150), { concurrency: 2 }))
  for (const instance of instances) await instance.start()
  await waitFor('all instances joined with the partition assigned', () =>
    instances.every((i) => i.assignment().length === 1)
  )
  await produce()
  const written = await readTopic(output, 1, (records) => records.length >= values.length)
  assert.deepEqual(written.map((r) => r.value!.toString()).sort(), values.map((v) => v.toUpperCase()).sort())
  await waitFor('all records accepted', () => instances.reduce((n, i) => n + i.counters.accepted, 0) === values.length)
  const accepted = instances.map((i) => i.counters.accepted)
  assert.ok(
    accepted.every((n) => n > 0),
    `every instance processed records from the one partition: ${accepted}`
  )
  assert.deepEqual(
    instances.map((i) => i.counters.released + i.counters.rejected),
    [0, 0, 0]
  )
})

test('a poison record is released, then rejected and dead-lettered on its last delivery; the rest go through', async () => {
  const values = ['a', 'poison', 'b']
  const { input, output, dlq, produce } = await setup(values)
  const instance = app(uniqueName('share-app'), topology(input, output, 0), {
    concurrency: 1,
    maxDeliveries: 2,
    deadLetterTopic: dlq
  })
  await instance.start()
  await produce()
  const dead = await readTopic(dlq, 1, (records) => records.length >= 1)
  assert.equal(dead[0]!.value!.toString(), 'poison')
  const header = (name: string) => dead[0]!.headers.find(([k]) => k === name)?.[1].toString()
  assert.match(header('streamlane.error.message') ?? '', /offset 1: cannot process poison$/)
  assert.equal(header('streamlane.error.delivery.count'), '2')
  const written = await readTopic(output, 1, (records) => records.length >= 2)
  assert.deepEqual(written.map((r) => r.value!.toString()).sort(), ['A', 'B'])
  await waitFor('the poison record rejected', () => instance.counters.rejected === 1)
  assert.deepEqual(
    { ...instance.counters },
    { delivered: 4, redelivered: 1, accepted: 2, released: 1, rejected: 1, deadLettered: 1, renewed: 0, renewFailed: 0 }
  )
})
