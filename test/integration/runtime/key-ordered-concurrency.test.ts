/**
 * Key-ordered concurrency within one task (issue 16; processingOrder 'key', maxConcurrencyPerTask): records of
 * different keys of one partition are in flight together (counted by the app's own metric), each key stays in order,
 * a commit never passes an unfinished record, and a SIGKILL in the middle loses nothing (at-least-once) or duplicates
 * nothing (exactly-once).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type ProcessorContext, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { AppInstance, killAll } from './instances.ts'
import { committedInput, createTopics, produceNumbered, readTopic, topicEnd } from './support.ts'

const LIMIT = 16

/** A gate the test opens. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {}
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

async function inFlightMetric(app: StreamlaneApp): Promise<number> {
  const text = await app.metrics().metrics()
  return Number(/^streamlane_app_records_in_flight (\d+)$/m.exec(text)?.[1] ?? Number.NaN)
}

test('one partition of many keys: records of different keys run together, each key in order, commits stop at the unfinished one', async () => {
  const RECORDS = 120
  const SLOW_OFFSET = 10
  const keyOf = (offset: number) => (offset === SLOW_OFFSET ? 'slow' : `k${offset % 23}`)
  const input = uniqueName('keyord-in')
  const output = uniqueName('keyord-out')
  const appId = uniqueName('keyord-app')
  await createTopics([
    { name: input, partitions: 1 },
    { name: output, partitions: 1 }
  ])
  const producer = createProducer({ brokers: testBrokers() })
  await producer.send(
    Array.from({ length: RECORDS }, (_, offset) => ({
      topic: input,
      key: Buffer.from(keyOf(offset)),
      value: Buffer.from(String(offset))
    }))
  )
  await producer.close()

  const everyone = gate()
  const slow = gate()
  let active = 0
  let maxActive = 0
  const activeKeys = new Set<string>()
  let keyOverlaps = 0
  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .process<string, string>(() => {
      let context: ProcessorContext<string, string>
      return {
        init(ctx) {
          context = ctx
        },
        async process(record) {
          if (activeKeys.has(record.key)) keyOverlaps++
          activeKeys.add(record.key)
          maxActive = Math.max(maxActive, ++active)
          await (record.key === 'slow' ? slow.promise : everyone.promise)
          const { offset } = context.recordMetadata()!
          active--
          activeKeys.delete(record.key)
          await context.forward({ ...record, value: `${record.value}@${offset}` })
        }
      }
    })
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
  const app = new StreamlaneApp(builder.build(), {
    applicationId: appId,
    bootstrapServers: testBrokers(),
    commitIntervalMs: 200,
    processingOrder: 'key',
    maxConcurrencyPerTask: LIMIT
  })
  const admin = createAdmin({ brokers: testBrokers() })
  await app.start()
  try {
    // All records wait at the gate: the task's limit of records of different keys is in flight, per the app itself.
    await waitFor('the task limit of records in flight', async () => (await inFlightMetric(app)) === LIMIT)
    assert.equal(maxActive, LIMIT, 'records of one partition in flight at once')

    // Everything but the slow record (offset 10) finishes; a commit after that stops right before it.
    everyone.open()
    await readTopic(output, 1, (r) => r.length >= RECORDS - 1)
    await waitFor('a commit after every other record finished', () => app.progress().committed === RECORDS - 1)
    assert.equal(await committedInput(admin, appId, input), SLOW_OFFSET, 'committed up to the unfinished record')
    assert.equal(await inFlightMetric(app), 1)

    slow.open()
    await waitFor('every offset committed', async () => (await committedInput(admin, appId, input)) === RECORDS)
    const records = await readTopic(output, 1, (r) => r.length >= RECORDS)
    assert.equal(records.length, RECORDS, 'each record once')
    assert.equal(keyOverlaps, 0, 'a key never had two records in flight')
    // Per key, the output is in input order (the output partition keeps each key's writes in order).
    const offsetsByKey = new Map<string, number[]>()
    for (const r of records) {
      const [, offset] = r.value!.toString().split('@')
      const key = r.key!.toString()
      offsetsByKey.set(key, [...(offsetsByKey.get(key) ?? []), Number(offset)])
    }
    for (const [key, offsets] of offsetsByKey) {
      assert.deepEqual(
        offsets,
        [...offsets].sort((a, b) => a - b),
        `key ${key} in order`
      )
    }
    assert.equal(offsetsByKey.size, 24)
    console.log(`1 partition, 24 keys: ${maxActive} records in flight at once (limit ${LIMIT}), ${RECORDS} records`)
  } finally {
    await app.close()
    await admin.close()
  }
})

const slowApp = fileURLToPath(new URL('./fixtures/slow-app.ts', import.meta.url))

for (const guarantee of ['at_least_once', 'exactly_once_v2'] as const) {
  test(`${guarantee}: key-ordered, a SIGKILL with records of many keys in flight ${guarantee === 'at_least_once' ? 'loses nothing' : 'duplicates nothing'}`, async () => {
    const RECORDS = 240
    const PARTITIONS = 2
    const input = uniqueName('keyord-kill-in')
    const output = uniqueName('keyord-kill-out')
    const appId = uniqueName('keyord-kill-app')
    await createTopics([
      { name: input, partitions: PARTITIONS },
      { name: output, partitions: PARTITIONS }
    ])
    await produceNumbered(input, RECORDS)
    const admin = createAdmin({ brokers: testBrokers() })
    const env = {
      STREAMLANE_APPLICATION_ID: appId,
      INPUT_TOPIC: input,
      OUTPUT_TOPIC: output,
      PER_RECORD_MS: '300',
      STREAMLANE_PROCESSING_GUARANTEE: guarantee,
      STREAMLANE_PROCESSING_ORDER: 'key',
      STREAMLANE_MAX_CONCURRENCY_PER_TASK: String(LIMIT),
      STREAMLANE_GROUP_INSTANCE_ID: 'keyord-kill-0',
      STREAMLANE_SESSION_TIMEOUT_MS: '10000',
      STREAMLANE_HEARTBEAT_INTERVAL_MS: '1000'
    }
    const instances: AppInstance[] = []
    try {
      const first = new AppInstance('keyord-kill-1', slowApp, env)
      instances.push(first)
      await waitFor('a third of the records written', async () => (await topicEnd(admin, output)) >= RECORDS / 3, {
        timeoutMs: 60_000
      })
      first.signal('SIGKILL')
      await first.exited
      const second = new AppInstance('keyord-kill-2', slowApp, env)
      instances.push(second)
      const records = await readTopic(
        output,
        PARTITIONS,
        (r) => new Set(r.map((x) => x.key!.toString())).size >= RECORDS,
        120_000
      )
      await waitFor(
        'every input offset committed',
        async () => (await committedInput(admin, appId, input)) === RECORDS,
        { timeoutMs: 60_000 }
      )
      second.signal('SIGTERM')
      assert.equal(await second.exited, 0, second.log.slice(-2000))
      assert.equal(new Set(records.map((r) => r.key!.toString())).size, RECORDS, 'nothing lost')
      if (guarantee === 'exactly_once_v2') {
        const committed = await readTopic(output, PARTITIONS, (r) => r.length >= RECORDS)
        assert.equal(committed.length, RECORDS, 'no committed duplicate')
      }
      console.log(
        `${guarantee} key-ordered: SIGKILL mid-flight, ${RECORDS} records, ${await topicEnd(admin, output)} output offsets written, ${records.length} read`
      )
    } finally {
      await killAll(instances)
      await admin.close()
    }
  })
}
