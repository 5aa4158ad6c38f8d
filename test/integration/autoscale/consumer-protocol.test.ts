import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Consumer } from '@platformatic/kafka'
import { type RunningScaler, startScaler } from '../../../src/autoscale/keda/start.ts'
import type { MetricsResponse } from '../../../src/autoscale/metrics-api/server.ts'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, produceNumbered } from '../runtime/support.ts'

/*
 * Plain consumers on Kafka 4's consumer group protocol (KIP-848, group.protocol=consumer). DescribeGroups does not
 * know such a group (GROUP_ID_NOT_FOUND): the admin describes it with ConsumerGroupDescribe, so the scaler sees its
 * members and their partitions, as it does for a classic group.
 */

const topic = uniqueName('kip848-in')
const groupId = uniqueName('kip848-group')
let admin: KafkaAdmin
let scaler: RunningScaler
const consumers: Consumer[] = []
const streams: { close(): Promise<void> }[] = []

before(async () => {
  admin = createAdmin({ brokers: testBrokers() })
  await createTopics([{ name: topic, partitions: 4 }])
  scaler = await startScaler({
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    defaultBrokers: testBrokers(),
    requestTimeoutMs: 5_000
  })
})

after(async () => {
  for (const stream of streams) await stream.close().catch(() => {})
  for (const consumer of consumers) await consumer.close(true).catch(() => {})
  await scaler?.close()
  await admin.deleteTopics([topic], { ifExists: true }).catch(() => {})
  await admin.close()
})

/** A consumer on the new protocol that reads but never commits, so the whole topic stays lag. */
async function startConsumer(name: string): Promise<void> {
  const consumer = new Consumer({
    clientId: name,
    groupId,
    bootstrapBrokers: testBrokers(),
    groupProtocol: 'consumer'
  })
  consumers.push(consumer)
  streams.push(await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false }))
}

async function metrics(): Promise<MetricsResponse> {
  const params = new URLSearchParams({
    namespace: 'ns',
    name: 'kip848',
    topics: topic,
    perReplicaRate: '1',
    maxReplicas: '10'
  })
  const response = await fetch(`http://127.0.0.1:${scaler.httpPort}/metrics/${groupId}?${params}`)
  const body = (await response.json()) as MetricsResponse
  assert.equal(response.status, 200, JSON.stringify(body))
  return body
}

test('a consumer-protocol group is described with its members and their partitions, and scaled by them', {
  timeout: 120_000
}, async () => {
  await startConsumer('kip848-a')
  await startConsumer('kip848-b')
  const group = await waitFor('both members to own partitions', async () => {
    const [described] = await admin.describeGroups([groupId])
    const owned = described?.members.flatMap((m) => m.assignment.flatMap((a) => a.partitions)) ?? []
    return described?.members.length === 2 && owned.length === 4 && described.state === 'Stable' ? described : undefined
  })
  assert.equal(group.protocolType, 'consumer')
  assert.ok(group.protocol, 'the server-side assignor is named')
  assert.deepEqual(group.members.map((m) => m.clientId).sort(), ['kip848-a', 'kip848-b'])
  assert.deepEqual(
    group.members
      .flatMap((m) => m.assignment)
      .flatMap((a) => a.partitions.map((p) => `${a.topic}-${p}`))
      .sort(),
    [0, 1, 2, 3].map((p) => `${topic}-${p}`)
  )

  // 400 records never committed, 1 rec/s per replica: draining them in 60 s needs more than the 4 partitions.
  await produceNumbered(topic, 400)
  const seen = await waitFor('the scaler to see the lag', async () => {
    const m = await metrics()
    return m.partitions.reduce((sum, p) => sum + p.lag, 0) === 400 ? m : undefined
  })
  assert.equal(seen.currentReplicas, 2, 'the two members count as the current replicas')
  assert.equal(seen.tasks.count, 4)
  assert.equal(seen.replicas, 4, seen.reason)

  const [unknown] = await admin.describeGroups([uniqueName('kip848-none')])
  assert.equal(unknown?.state, 'Dead', 'a group neither protocol knows is still Dead')
})
