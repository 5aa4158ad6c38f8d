import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Consumer, Producer } from '@platformatic/kafka'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import {
  BrokerUnreachableError,
  KafkaClosedError,
  TopicExistsError,
  TopicPartitionCountError,
  UnknownTopicError
} from '../../../src/kafka/errors.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'

let admin: KafkaAdmin
const created: string[] = []

before(() => {
  admin = createAdmin({ brokers: testBrokers(), clientId: 'admin-test' })
})

after(async () => {
  await admin.deleteTopics(created, { ifExists: true })
  await admin.close()
})

/** Produces with the library directly so these tests depend on the admin only. */
async function produce(topic: string, records: { partition: number; timestamp: bigint }[]): Promise<void> {
  const producer = new Producer({ clientId: 'admin-test-producer', bootstrapBrokers: testBrokers() })
  try {
    await producer.send({
      messages: records.map((r, i) => ({
        topic,
        partition: r.partition,
        timestamp: r.timestamp,
        value: Buffer.from(`v${i}`)
      }))
    })
  } finally {
    await producer.close()
  }
}

test('creates a topic with configs, describes it, and deletes it', async () => {
  const name = uniqueName('admin-create')
  created.push(name)
  await admin.createTopics([
    { name, partitions: 3, configs: { 'cleanup.policy': 'compact', 'retention.ms': '3600000' } }
  ])

  const [described] = await admin.describeTopics([name])
  assert.equal(described?.name, name)
  assert.deepEqual(
    described?.partitions.map((p) => p.partition),
    [0, 1, 2]
  )
  for (const p of described?.partitions ?? []) {
    assert.ok(p.leader >= 0, 'every partition has a leader once createTopics returns')
    assert.deepEqual(p.replicas, [p.leader])
    assert.deepEqual(p.isr, [p.leader])
  }

  const configs = await admin.describeTopicConfigs(name)
  assert.equal(configs['cleanup.policy'], 'compact')
  assert.equal(configs['retention.ms'], '3600000')

  await assert.rejects(
    admin.createTopics([{ name, partitions: 3 }]),
    (e) => e instanceof TopicExistsError && e.topic === name
  )
  await admin.createTopics([{ name, partitions: 3 }], { ifNotExists: true })
  await admin.ensureTopics([{ name, partitions: 3 }])
  await assert.rejects(
    admin.ensureTopics([{ name, partitions: 5 }]),
    (e) => e instanceof TopicPartitionCountError && e.topic === name && e.expected === 5 && e.actual === 3
  )

  await admin.deleteTopics([name])
  await assert.rejects(admin.describeTopics([name]), (e) => e instanceof UnknownTopicError && e.topic === name)
  await admin.deleteTopics([name], { ifExists: true })
})

test('an unknown topic fails fast with an error naming it', async () => {
  const missing = uniqueName('admin-missing')
  const started = Date.now()
  for (const call of [
    () => admin.describeTopics([missing]),
    () => admin.describeTopicConfigs(missing),
    () => admin.listOffsets([{ topic: missing }], 'latest'),
    () => admin.deleteTopics([missing]),
    () => admin.deleteRecords([{ topic: missing, partition: 0, offset: 1n }])
  ]) {
    await assert.rejects(
      call(),
      (e) => e instanceof UnknownTopicError && e.topic === missing && e.message.includes(missing)
    )
  }
  // Far below the 30 s request deadline the client would spend retrying an unknown topic as transient.
  assert.ok(Date.now() - started < 15_000, 'unknown topics are not retried as if transient')
})

test('lists earliest, latest and by-timestamp offsets; deleteRecords moves the earliest', async () => {
  const topic = uniqueName('admin-offsets')
  created.push(topic)
  await admin.createTopics([{ name: topic, partitions: 2 }])
  const base = 1_700_000_000_000n
  await produce(
    topic,
    Array.from({ length: 10 }, (_, i) => ({ partition: 0, timestamp: base + BigInt(i) * 1000n }))
  )
  await produce(topic, [{ partition: 1, timestamp: base }])

  const earliest = await admin.listOffsets([{ topic }], 'earliest')
  assert.deepEqual([...(earliest.get(topic) ?? [])].sort(), [
    [0, 0n],
    [1, 0n]
  ])
  const latest = await admin.listOffsets([{ topic }], 'latest', { isolation: 'read_committed' })
  assert.equal(latest.get(topic)?.get(0), 10n)
  assert.equal(latest.get(topic)?.get(1), 1n)

  const byTime = await admin.listOffsets([{ topic, partitions: [0] }], { timestamp: Number(base + 4500n) })
  assert.equal(byTime.get(topic)?.get(0), 5n, 'first record at or after the timestamp')
  assert.equal(byTime.get(topic)?.size, 1)
  const future = await admin.listOffsets([{ topic, partitions: [0] }], { timestamp: Number(base + 10_000_000n) })
  assert.equal(future.get(topic)?.get(0), 10n, 'no record that recent: the end of the log')

  await admin.deleteRecords([{ topic, partition: 0, offset: 4n }])
  const moved = await admin.listOffsets([{ topic, partitions: [0] }], 'earliest')
  assert.equal(moved.get(topic)?.get(0), 4n)
})

test('fetches and alters group offsets; -1 where nothing was committed', async () => {
  const topic = uniqueName('admin-group-offsets')
  const groupId = uniqueName('admin-group')
  created.push(topic)
  await admin.createTopics([{ name: topic, partitions: 3 }])
  await produce(
    topic,
    Array.from({ length: 6 }, (_, i) => ({ partition: i % 3, timestamp: BigInt(Date.now()) }))
  )

  assert.deepEqual(await admin.fetchGroupOffsets(groupId), [])
  assert.deepEqual(
    (await admin.fetchGroupOffsets(groupId, [topic])).map((o) => [o.partition, o.offset]),
    [
      [0, -1n],
      [1, -1n],
      [2, -1n]
    ]
  )

  await admin.alterGroupOffsets(groupId, [
    { topic, partition: 0, offset: 2n },
    { topic, partition: 2, offset: 1n }
  ])
  const committed = await admin.fetchGroupOffsets(groupId)
  assert.deepEqual(
    committed.map((o) => [o.topic, o.partition, o.offset]),
    [
      [topic, 0, 2n],
      [topic, 2, 1n]
    ]
  )
  assert.deepEqual(
    (await admin.fetchGroupOffsets(groupId, [topic])).map((o) => o.offset),
    [2n, -1n, 1n]
  )
  const groups = await admin.listGroups()
  assert.ok(groups.some((g) => g.groupId === groupId))
})

test('describes a group created by the library consumer, decoding its assignment', async () => {
  const topic = uniqueName('admin-describe-group')
  const groupId = uniqueName('admin-describe')
  created.push(topic)
  await admin.createTopics([{ name: topic, partitions: 2 }])
  const consumer = new Consumer({
    clientId: 'admin-test-consumer',
    groupId,
    bootstrapBrokers: testBrokers(),
    groupInstanceId: 'pod-a',
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000
  })
  const stream = await consumer.consume({ topics: [topic], mode: 'latest' })
  try {
    const [group] = await waitFor('the group to become stable', async () => {
      const described = await admin.describeGroups([groupId])
      return described[0]?.state === 'Stable' ? described : undefined
    })
    assert.equal(group?.groupId, groupId)
    assert.equal(group?.protocolType, 'consumer')
    assert.ok(group?.protocol, 'the agreed assignor is named')
    assert.equal(group?.members.length, 1)
    const member = group?.members[0]
    assert.equal(member?.groupInstanceId, 'pod-a')
    assert.equal(member?.clientId, 'admin-test-consumer')
    assert.ok(member?.host)
    assert.deepEqual(member?.assignment, [{ topic, partitions: [0, 1] }])
  } finally {
    await stream.close()
    await consumer.close(true)
  }
  const [missing] = await admin.describeGroups([uniqueName('admin-no-group')])
  assert.equal(missing?.state, 'Dead')
  assert.deepEqual(missing?.members, [])
})

test('concurrent calls on one admin are safe', async () => {
  const topic = uniqueName('admin-concurrent')
  created.push(topic)
  await admin.createTopics([{ name: topic, partitions: 4 }])
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      i % 2 ? admin.listOffsets([{ topic }], 'latest') : admin.describeTopics([topic]).then(() => undefined)
    )
  )
  for (const [i, r] of results.entries()) if (i % 2) assert.equal(r?.get(topic)?.size, 4)
})

test('an unreachable broker fails within the deadline with a message naming it', async () => {
  const unreachable = createAdmin({
    brokers: ['127.0.0.1:1'],
    connectTimeoutMs: 500,
    requestTimeoutMs: 1_500,
    retryDelayMs: 100
  })
  const started = Date.now()
  await assert.rejects(
    unreachable.describeTopics(['anything']),
    (e) => e instanceof BrokerUnreachableError && e.brokers.includes('127.0.0.1:1') && /127\.0\.0\.1:1/.test(e.message)
  )
  // The configured 1.5 s deadline, not the 30 s default, bounds the wait (with room for a loaded machine).
  assert.ok(Date.now() - started < 10_000, `failed after ${Date.now() - started} ms`)
  await unreachable.close()
  await assert.rejects(unreachable.listGroups(), KafkaClosedError)
})

test('a broker that accepts connections but never answers fails at the deadline', async () => {
  const { createServer } = await import('node:net')
  const sockets: import('node:net').Socket[] = []
  const silent = createServer((socket) => sockets.push(socket))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const port = (silent.address() as { port: number }).port
  const hanging = createAdmin({ brokers: [`127.0.0.1:${port}`], connectTimeoutMs: 500, requestTimeoutMs: 1_000 })
  const started = Date.now()
  try {
    await assert.rejects(hanging.listGroups(), (e: Error & { code?: string }) => {
      return /STREAMLANE_KAFKA_(TIMEOUT|BROKER_UNREACHABLE)/.test(e.code ?? '') && e.message.includes('1000 ms')
    })
    assert.ok(Date.now() - started < 2_000, `failed after ${Date.now() - started} ms`)
  } finally {
    await hanging.close()
    for (const s of sockets) s.destroy()
    silent.close()
  }
})
