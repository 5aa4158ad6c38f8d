/**
 * Lock renewal (KIP-1222) and ShareGroupDescribe on the real broker: a record held past several lock durations while
 * its lock is renewed is neither redelivered nor refused when accepted; the same record without renewal comes back
 * with delivery count 2. ShareGroupDescribe lists the members with their client ids and shared assignment.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { createProducer, type KafkaProducer } from '../../../src/kafka/producer.ts'
import { alterShareGroupConfig } from '../../../src/kafka/share/share-admin.ts'
import {
  createShareConsumer,
  type KafkaShareConsumer,
  type ShareRecord
} from '../../../src/kafka/share/share-consumer.ts'
import { describeShareGroup } from '../../../src/kafka/share/share-describe.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'

const LOCK_MS = 1_000
let admin: KafkaAdmin
let producer: KafkaProducer
const topics: string[] = []
const consumers: KafkaShareConsumer[] = []

before(() => {
  admin = createAdmin({ brokers: testBrokers() })
  producer = createProducer({ brokers: testBrokers(), clientId: 'share-renew-test' })
})

after(async () => {
  for (const c of consumers) await c.close()
  await producer.close()
  await admin.deleteTopics(topics, { ifExists: true })
  await admin.close()
})

async function setup(partitions: number, records: number): Promise<{ topic: string; groupId: string }> {
  const topic = uniqueName('share-renew')
  topics.push(topic)
  await admin.createTopics([{ name: topic, partitions }])
  for (let i = 0; i < records; i++) await producer.send([{ topic, partition: 0, value: Buffer.from(String(i)) }])
  const groupId = uniqueName('share-renew-group')
  await alterShareGroupConfig({ brokers: testBrokers() }, groupId, {
    autoOffsetReset: 'earliest',
    recordLockDurationMs: LOCK_MS
  })
  return { topic, groupId }
}

function consumer(groupId: string, topic: string, clientId?: string): KafkaShareConsumer {
  const c = createShareConsumer({
    brokers: testBrokers(),
    groupId,
    topics: [topic],
    acknowledgementMode: 'explicit',
    maxWaitMs: 200,
    maxRecords: 1,
    ...(clientId ? { clientId } : {})
  })
  consumers.push(c)
  return c
}

async function acquireOne(c: KafkaShareConsumer): Promise<ShareRecord> {
  let record: ShareRecord | undefined
  await waitFor('a record acquired', async () => {
    record = (await c.poll(300, 1))[0]
    return record !== undefined
  })
  return record!
}

test('a renewed lock holds a record past several lock durations; without renewal it is redelivered', async () => {
  const { topic, groupId } = await setup(1, 1)
  const holder = consumer(groupId, topic)
  const other = consumer(groupId, topic)
  assert.equal(await holder.supportsRenew(), true, 'the test broker (Kafka 4.3) has ShareAcknowledge v2')
  const record = await acquireOne(holder)
  assert.equal(record.deliveryCount, 1)
  // Hold it for 3.5 lock durations, renewing every half lock, while the other member polls for anything released.
  const stolen: ShareRecord[] = []
  const heldUntil = Date.now() + 3.5 * LOCK_MS
  while (Date.now() < heldUntil) {
    assert.deepEqual(await holder.renew([record]), [])
    stolen.push(...(await other.poll(LOCK_MS / 2, 1)))
  }
  assert.deepEqual(stolen, [], 'no redelivery while the lock was renewed')
  assert.equal(holder.acquisitionLockTimeoutMs, LOCK_MS)
  holder.acknowledge(record, 'accept')
  assert.deepEqual(await holder.commit(), [], 'the accept after renewals is not refused')

  // The control: the same kind of hold without renewal loses the record to the other member, delivery count 2.
  await producer.send([{ topic, partition: 0, value: Buffer.from('unrenewed') }])
  const second = await acquireOne(holder)
  assert.equal(second.value?.toString(), 'unrenewed')
  const redelivered = await acquireOne(other)
  assert.deepEqual([redelivered.offset, redelivered.deliveryCount], [second.offset, 2])
  other.acknowledge(redelivered, 'accept')
  await other.commit()
  await sleep(0)
})

test('ShareGroupDescribe lists the members, their client ids and the partitions they share', async () => {
  const { topic, groupId } = await setup(2, 0)
  const a = consumer(groupId, topic, 'describe-a')
  const b = consumer(groupId, topic, 'describe-b')
  // Joining happens on the first poll.
  await Promise.all([a.poll(100), b.poll(100)])
  const described = await waitFor('two members, each with partitions', async () => {
    const d = await describeShareGroup({ brokers: testBrokers() }, groupId)
    return d.members.length === 2 && d.members.every((m) => m.assignment.length > 0) ? d : undefined
  })
  assert.equal(described.state, 'Stable')
  // Members heartbeat on their group coordinator link, whose client id is `<clientId>-group`.
  assert.deepEqual(described.members.map((m) => m.clientId).sort(), ['describe-a-group', 'describe-b-group'])
  assert.deepEqual(described.members.map((m) => m.memberId).sort(), [a.memberId, b.memberId].sort())
  const assigned = described.members.flatMap((m) =>
    m.assignment.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`))
  )
  assert.deepEqual([...new Set(assigned)].sort(), [`${topic}-0`, `${topic}-1`])
  for (const m of described.members) assert.deepEqual(m.subscribedTopics, [topic])

  const unknown = await describeShareGroup({ brokers: testBrokers() }, uniqueName('never-joined'))
  assert.deepEqual([unknown.state, unknown.members], ['Unknown', []])
})
