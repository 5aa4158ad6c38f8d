import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Consumer } from '@platformatic/kafka'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { KafkaRequestError, OffsetCommitRejectedError, ProducerFencedError } from '../../../src/kafka/errors.ts'
import {
  createPartitionReader,
  type KafkaPartitionReader,
  OFFSET_EARLIEST
} from '../../../src/kafka/partition-reader.ts'
import { createProducer, type KafkaProducer } from '../../../src/kafka/producer.ts'
import type { ConsumedRecord, IsolationLevel } from '../../../src/kafka/types.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'

let admin: KafkaAdmin
const topics: string[] = []
const closers: (() => Promise<void>)[] = []

before(() => {
  admin = createAdmin({ brokers: testBrokers() })
})

after(async () => {
  for (const close of closers.reverse()) await close().catch(() => {})
  await admin.deleteTopics(topics, { ifExists: true })
  await admin.close()
})

async function topic(partitions = 1): Promise<string> {
  const name = uniqueName('txn')
  topics.push(name)
  await admin.createTopics([{ name, partitions }])
  return name
}

function transactional(transactionalId = uniqueName('txn-id')): KafkaProducer {
  const producer = createProducer({ brokers: testBrokers(), transactionalId, clientId: 'txn-test' })
  closers.push(() => producer.close())
  return producer
}

function reader(isolation: IsolationLevel): KafkaPartitionReader {
  const r = createPartitionReader({ brokers: testBrokers(), isolation, fetchMaxWaitMs: 100 })
  closers.push(() => r.close())
  return r
}

/** Reads from the start until the position reaches the partition's end; returns what came. */
async function readToEnd(r: KafkaPartitionReader, name: string, end: bigint): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = []
  await r.assign([{ topic: name, partition: 0, offset: OFFSET_EARLIEST }])
  await waitFor(`position ${end} of ${name}`, async () => {
    out.push(...(await r.poll(100)))
    return r.position(name, 0) === end
  })
  out.push(...(await r.poll(100)))
  return out
}

test('an aborted transaction leaves nothing visible to read_committed; a committed one is visible', async () => {
  const name = await topic()
  const producer = transactional()

  await producer.beginTransaction()
  await producer.send([1, 2, 3].map((i) => ({ topic: name, partition: 0, value: Buffer.from(`aborted-${i}`) })))
  await producer.abortTransaction()

  await producer.beginTransaction()
  const sent = await producer.send(
    [1, 2].map((i) => ({ topic: name, partition: 0, value: Buffer.from(`committed-${i}`) }))
  )
  await producer.commitTransaction()

  // Log: 3 aborted records, ABORT marker, 2 committed records, COMMIT marker. The broker answers EndTxn before the
  // partition leader has written the marker (a CI run read the last stable offset 4 right after the commit), so the
  // read_committed end is waited for, not read once.
  const lastStable = async () =>
    (await admin.listOffsets([{ topic: name }], 'latest', { isolation: 'read_committed' })).get(name)?.get(0)
  await waitFor('the COMMIT marker written (last stable offset 7)', async () => (await lastStable()) === 7n)
  const committed = await readToEnd(reader('read_committed'), name, 7n)
  assert.deepEqual(
    committed.map((r) => r.value?.toString()),
    ['committed-1', 'committed-2']
  )
  assert.deepEqual(
    committed.map((r) => r.offset),
    sent.map((s) => s.offset)
  )
  const uncommitted = await readToEnd(reader('read_uncommitted'), name, 7n)
  assert.deepEqual(
    uncommitted.map((r) => r.value?.toString()),
    ['aborted-1', 'aborted-2', 'aborted-3', 'committed-1', 'committed-2'],
    'read_uncommitted sees the aborted records too (markers are never returned)'
  )
})

test('an open transaction is invisible to read_committed until it commits', async () => {
  const name = await topic()
  const producer = transactional()
  await producer.beginTransaction()
  await producer.send([{ topic: name, partition: 0, value: Buffer.from('pending') }])
  await producer.flush()
  const r = reader('read_committed')
  await r.assign([{ topic: name, partition: 0, offset: 0n }])
  assert.deepEqual(await r.poll(500), [])
  await producer.commitTransaction()
  const [record] = await waitFor('the committed record', async () => {
    const got = await r.poll(100)
    return got.length ? got : undefined
  })
  assert.equal(record?.value?.toString(), 'pending')
})

test('sendOffsetsToTransaction: generation -1 and no member id are accepted for a group without members', async () => {
  // What the broker accepts (Kafka 4.3): TxnOffsetCommit with generation -1 and an empty member id is taken like an
  // admin commit; the group need not exist.
  const input = await topic(2)
  const output = await topic()
  const groupId = uniqueName('txn-group')
  const producer = transactional()

  await producer.beginTransaction()
  await producer.send([{ topic: output, partition: 0, value: Buffer.from('x') }])
  await producer.sendOffsetsToTransaction({
    groupId,
    generationId: -1,
    memberId: '',
    offsets: [
      { topic: input, partition: 0, offset: 5n },
      { topic: input, partition: 1, offset: 7n }
    ]
  })
  await producer.abortTransaction()
  assert.deepEqual(await admin.fetchGroupOffsets(groupId), [], 'aborted offsets are not committed')

  await producer.beginTransaction()
  await producer.sendOffsetsToTransaction({
    groupId,
    generationId: -1,
    memberId: '',
    offsets: [{ topic: input, partition: 0, offset: 5n }]
  })
  await producer.commitTransaction()
  // Offsets of a committed transaction become visible once the coordinator wrote the markers.
  const committed = await waitFor('committed offsets', async () => {
    const offsets = await admin.fetchGroupOffsets(groupId)
    return offsets.length ? offsets : undefined
  })
  assert.deepEqual(
    committed.map((o) => [o.topic, o.partition, o.offset]),
    [[input, 0, 5n]]
  )
})

test('sendOffsetsToTransaction with a live member: its generation commits, a stale one is rejected', async () => {
  const input = await topic(1)
  const groupId = uniqueName('txn-live')
  const consumer = new Consumer({
    clientId: 'txn-member',
    groupId,
    bootstrapBrokers: testBrokers(),
    sessionTimeout: 10_000,
    heartbeatInterval: 500
  })
  const stream = await consumer.consume({ topics: [input], mode: 'latest', autocommit: false })
  closers.push(async () => {
    await stream.close()
    await consumer.close(true)
  })
  await waitFor('the member to join', () => consumer.memberId && consumer.generationId > 0)
  const member = { groupId, generationId: consumer.generationId, memberId: consumer.memberId ?? '' }

  const producer = transactional()
  // Found on Kafka 4.3: a transactional commit without generation and member id is accepted even while the group has
  // members (the coordinator keeps this path for pre-KIP-447 producers). Only the generation protects a commit,
  // so Streamlane always passes it.
  await producer.beginTransaction()
  await producer.sendOffsetsToTransaction({
    groupId,
    generationId: -1,
    memberId: '',
    offsets: [{ topic: input, partition: 0, offset: 1n }]
  })
  await producer.abortTransaction()

  await producer.beginTransaction()
  await producer.sendOffsetsToTransaction({ ...member, offsets: [{ topic: input, partition: 0, offset: 3n }] })
  await producer.commitTransaction()
  await waitFor('the offset to be committed', async () => (await admin.fetchGroupOffsets(groupId))[0]?.offset === 3n)

  await producer.beginTransaction()
  await assert.rejects(
    producer.sendOffsetsToTransaction({
      ...member,
      generationId: member.generationId + 5,
      offsets: [{ topic: input, partition: 0, offset: 4n }]
    }),
    (e) =>
      e instanceof OffsetCommitRejectedError &&
      e.generationId === member.generationId + 5 &&
      /ILLEGAL_GENERATION/.test(e.message) &&
      e.message.includes(groupId)
  )
  await producer.abortTransaction()
  assert.equal((await admin.fetchGroupOffsets(groupId))[0]?.offset, 3n)
})

test('a producer fenced by a newer one with the same transactional id fails cleanly and stays failed', async () => {
  const name = await topic()
  const transactionalId = uniqueName('fenced')
  const zombie = transactional(transactionalId)
  await zombie.beginTransaction()
  await zombie.send([{ topic: name, partition: 0, value: Buffer.from('zombie') }])

  const successor = transactional(transactionalId)
  await successor.beginTransaction()
  await successor.send([{ topic: name, partition: 0, value: Buffer.from('successor') }])

  await assert.rejects(
    zombie.commitTransaction(),
    (e) =>
      e instanceof ProducerFencedError && e.transactionalId === transactionalId && e.message.includes(transactionalId)
  )
  await assert.rejects(zombie.beginTransaction(), ProducerFencedError, 'a fenced producer never comes back')
  await assert.rejects(zombie.send([{ topic: name, value: Buffer.from('no') }]), ProducerFencedError)

  await successor.commitTransaction()
  const end =
    (await admin.listOffsets([{ topic: name }], 'latest', { isolation: 'read_committed' })).get(name)?.get(0) ?? -1n
  const visible = await readToEnd(reader('read_committed'), name, end)
  assert.deepEqual(
    visible.map((r) => r.value?.toString()),
    ['successor']
  )
})

test('transaction misuse is refused with a clear error', async () => {
  const name = await topic()
  const producer = transactional()
  await assert.rejects(producer.send([{ topic: name, value: Buffer.from('x') }]), /beginTransaction\(\) first/)
  await assert.rejects(producer.commitTransaction(), KafkaRequestError)
  await producer.beginTransaction()
  await assert.rejects(producer.beginTransaction(), /already open/)
  await producer.commitTransaction() // empty: ends locally
  const plain = createProducer({ brokers: testBrokers() })
  closers.push(() => plain.close())
  await assert.rejects(plain.beginTransaction(), /no transactionalId/)
})
