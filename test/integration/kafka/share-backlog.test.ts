import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { createProducer, type KafkaProducer } from '../../../src/kafka/producer.ts'
import { alterShareGroupConfig } from '../../../src/kafka/share/share-admin.ts'
import { createShareConsumer, type ShareRecord } from '../../../src/kafka/share/share-consumer.ts'
import { describeShareGroupBacklog } from '../../../src/kafka/share/share-offsets.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'

let admin: KafkaAdmin
let producer: KafkaProducer
const topics: string[] = []

before(() => {
  admin = createAdmin({ brokers: testBrokers() })
  producer = createProducer({ brokers: testBrokers(), clientId: 'share-backlog-test' })
})

after(async () => {
  await producer.close()
  await admin.deleteTopics(topics, { ifExists: true })
  await admin.close()
})

test('a share group backlog counts the records not yet acknowledged, in flight ones included', async () => {
  const topic = uniqueName('share-backlog')
  topics.push(topic)
  await admin.createTopics([{ name: topic, partitions: 2 }])
  for (let i = 0; i < 10; i++) await producer.send([{ topic, partition: 0, value: Buffer.from(String(i)) }])
  const groupId = uniqueName('share-backlog-group')
  await alterShareGroupConfig({ brokers: testBrokers() }, groupId, { autoOffsetReset: 'earliest' })
  const consumer = createShareConsumer({
    brokers: testBrokers(),
    groupId,
    topics: [topic],
    acknowledgementMode: 'explicit',
    maxWaitMs: 200
  })
  try {
    const held: ShareRecord[] = []
    await waitFor('6 records acquired', async () => {
      held.push(...(await consumer.poll(300, 6 - held.length)))
      return held.length >= 6
    })
    assert.deepEqual(
      held.map((r) => Number(r.offset)),
      [0, 1, 2, 3, 4, 5]
    )
    for (const r of held.slice(0, 4)) consumer.acknowledge(r, 'accept')
    assert.deepEqual(await consumer.commit(), [])
    const backlog = await waitFor('the backlog of partition 0 at 6', async () => {
      const all = await describeShareGroupBacklog({ brokers: testBrokers() }, groupId, [{ topic, partitions: [0, 1] }])
      return all.find((p) => p.partition === 0)?.lag === 6n ? all : undefined
    })
    // Offsets 4 and 5 are in flight (acquired, not acknowledged) and 6..9 never delivered: 6 records of backlog. The
    // empty partition 1 has nothing to deliver: no backlog, or -1 while the broker has not initialised its share state.
    const empty = backlog.find((p) => p.partition === 1)
    assert.ok(empty && empty.lag <= 0n, `backlog of the empty partition: ${empty?.lag}`)
    assert.ok(backlog[0]!.startOffset >= 0n && backlog[0]!.startOffset <= 4n)
  } finally {
    await consumer.close()
  }
})
