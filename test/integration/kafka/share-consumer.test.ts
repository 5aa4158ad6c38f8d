import assert from 'node:assert/strict'
import { type ChildProcess, fork } from 'node:child_process'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { createProducer, type KafkaProducer } from '../../../src/kafka/producer.ts'
import { alterShareGroupConfig } from '../../../src/kafka/share/share-admin.ts'
import {
  createShareConsumer,
  type KafkaShareConsumer,
  type ShareConsumerOptions,
  type ShareRecord
} from '../../../src/kafka/share/share-consumer.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'

const LOCK_MS = 2_000
let admin: KafkaAdmin
let producer: KafkaProducer
const topics: string[] = []
const consumers: KafkaShareConsumer[] = []
const children: ChildProcess[] = []

before(() => {
  admin = createAdmin({ brokers: testBrokers() })
  producer = createProducer({ brokers: testBrokers(), clientId: 'share-consumer-test' })
})

after(async () => {
  for (const child of children) child.kill('SIGKILL')
  for (const c of consumers) await c.close()
  await producer.close()
  await admin.deleteTopics(topics, { ifExists: true })
  await admin.close()
})

/** A one-partition topic holding `count` records (values `0..count-1`), each in its own batch, and a share group on it. */
async function setup(count: number): Promise<{ topic: string; groupId: string }> {
  const topic = uniqueName('share')
  topics.push(topic)
  await admin.createTopics([{ name: topic, partitions: 1 }])
  for (let i = 0; i < count; i++) await producer.send([{ topic, partition: 0, value: Buffer.from(String(i)) }])
  const groupId = uniqueName('share-group')
  await alterShareGroupConfig({ brokers: testBrokers() }, groupId, {
    autoOffsetReset: 'earliest',
    recordLockDurationMs: LOCK_MS
  })
  return { topic, groupId }
}

function consumer(options: Omit<ShareConsumerOptions, 'brokers'>): KafkaShareConsumer {
  const c = createShareConsumer({ brokers: testBrokers(), maxWaitMs: 200, ...options })
  consumers.push(c)
  return c
}

/** Polls until `check` holds for what was received, with a deadline. */
async function pollUntil(
  c: KafkaShareConsumer,
  what: string,
  check: (received: ShareRecord[]) => boolean,
  onRecord: (r: ShareRecord) => void = () => {}
): Promise<ShareRecord[]> {
  const received: ShareRecord[] = []
  await waitFor(what, async () => {
    for (const r of await c.poll(300)) {
      received.push(r)
      onRecord(r)
    }
    return check(received)
  })
  return received
}

const offsets = (records: ShareRecord[]) => records.map((r) => Number(r.offset)).sort((a, b) => a - b)

test('two members share one partition: every accepted record is delivered to exactly one of them', async () => {
  const { topic, groupId } = await setup(20)
  const a = consumer({ groupId, topics: [topic], acknowledgementMode: 'explicit', maxRecords: 5 })
  const b = consumer({ groupId, topics: [topic], acknowledgementMode: 'explicit', maxRecords: 5 })
  // A holds its first records unacknowledged: B, on the same partition, is handed other records meanwhile.
  const heldByA = await pollUntil(a, 'records for A', (got) => got.length > 0)
  const firstOfB = await pollUntil(b, 'records for B', (got) => got.length > 0)
  assert.deepEqual(
    offsets(firstOfB).filter((o) => offsets(heldByA).includes(o)),
    [],
    'B got records A holds'
  )
  const seen = [...heldByA, ...firstOfB]
  for (const r of heldByA) a.acknowledge(r, 'accept')
  for (const r of firstOfB) b.acknowledge(r, 'accept')
  const accept = (c: KafkaShareConsumer) => (r: ShareRecord) => {
    seen.push(r)
    c.acknowledge(r, 'accept')
  }
  await Promise.all([
    pollUntil(a, 'all 20 records (A)', () => seen.length >= 20, accept(a)),
    pollUntil(b, 'all 20 records (B)', () => seen.length >= 20, accept(b))
  ])
  assert.deepEqual(
    offsets(seen),
    Array.from({ length: 20 }, (_, i) => i)
  )
  assert.ok(
    seen.every((r) => r.deliveryCount === 1),
    'an accepted record was delivered twice'
  )
  assert.deepEqual(await a.commit(), [])
  assert.deepEqual(await b.commit(), [])
})

test('a released record comes back with delivery count 2; a rejected one never comes back', async () => {
  const { topic, groupId } = await setup(3)
  const c = consumer({ groupId, topics: [topic], acknowledgementMode: 'explicit' })
  const first = await pollUntil(c, '3 records', (got) => got.length >= 3)
  assert.deepEqual(offsets(first), [0, 1, 2])
  assert.deepEqual(
    first.map((r) => r.deliveryCount),
    [1, 1, 1]
  )
  c.acknowledge(first[0]!, 'reject')
  c.acknowledge(first[1]!, 'release')
  c.acknowledge(first[2]!, 'accept')
  assert.deepEqual(await c.commit(), [])
  await producer.send([{ topic, partition: 0, value: Buffer.from('3') }])
  const again = await pollUntil(
    c,
    'the released record and the new one',
    (got) => got.some((r) => r.offset === 3n),
    (r) => c.acknowledge(r, 'accept')
  )
  assert.deepEqual(
    again.map((r) => [Number(r.offset), r.deliveryCount]).sort((x, y) => x[0]! - y[0]!),
    [
      [1, 2],
      [3, 1]
    ]
  )
})

test('the records of a member killed mid-record are redelivered to another member after the lock timeout', async () => {
  const { topic, groupId } = await setup(4)
  const child = fork(fileURLToPath(new URL('./fixtures/share-member-process.ts', import.meta.url)), [], {
    env: {
      ...process.env,
      STREAMLANE_SHARE_MEMBER: JSON.stringify({ brokers: testBrokers(), groupId, topics: [topic], maxWaitMs: 200 })
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  children.push(child)
  const held = await new Promise<{ offsets: string[]; deliveryCounts: number[] }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { offsets: string[]; deliveryCounts: number[] }))
    child.once('exit', (code) => reject(new Error(`share member exited with ${code} before reporting`)))
  })
  assert.ok(held.offsets.length > 0)
  assert.ok(held.deliveryCounts.every((n) => n === 1))
  child.kill('SIGKILL')

  const survivor = consumer({ groupId, topics: [topic], acknowledgementMode: 'explicit' })
  const received = await pollUntil(
    survivor,
    'all 4 records on the surviving member',
    (got) => new Set(got.map((r) => r.offset)).size >= 4,
    (r) => survivor.acknowledge(r, 'accept')
  )
  assert.deepEqual(offsets(received), [0, 1, 2, 3])
  for (const r of received) {
    const wasHeld = held.offsets.includes(String(r.offset))
    assert.equal(r.deliveryCount, wasHeld ? 2 : 1, `delivery count of offset ${r.offset}`)
  }
})

test('a group id taken by a consumer group is refused with an error naming the group', async () => {
  const { topic } = await setup(1)
  const groupId = uniqueName('classic-group')
  await admin.alterGroupOffsets(groupId, [{ topic, partition: 0, offset: 0n }])
  const c = consumer({ groupId, topics: [topic] })
  await assert.rejects(c.poll(1_000), (error: Error & { code?: string }) => {
    assert.match(error.message, new RegExp(`share group ${groupId}.*taken by a consumer group`))
    assert.equal(error.code, 'STREAMLANE_GROUP_PROTOCOL_UNSUPPORTED')
    return true
  })
})
