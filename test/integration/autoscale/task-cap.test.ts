import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type * as grpc from '@grpc/grpc-js'
import { externalScalerClient } from '../../../src/autoscale/keda/proto.ts'
import { metricNameFor } from '../../../src/autoscale/keda/scaler-service.ts'
import { type RunningScaler, startScaler } from '../../../src/autoscale/keda/start.ts'
import type { MetricsResponse } from '../../../src/autoscale/metrics-api/server.ts'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, produceNumbered } from '../runtime/support.ts'

/*
 * A real Streamlane app with three sub-topologies, and the scaler reading its tasks from the group's assignment:
 *
 *   orders (3) + refunds (3) --merge--> repartition "by-customer"     3 tasks (co-partitioned: one task per partition)
 *   <app>-by-customer-repartition (3) --> out                          3 tasks
 *   clicks (2) --> out                                                 2 tasks
 *
 * 8 active tasks, where the source topics' partitions sum to 11 and the largest sub-topology has 3. The cap must be 8,
 * over the metrics-api and over KEDA's gRPC alike, and must hold once the app is at zero (no assignment to read).
 */

const serdes = { keySerde: Serdes.string(), valueSerde: Serdes.string() }

let scaler: RunningScaler
let app: StreamlaneApp | undefined
const appId = uniqueName('task-cap')
const topics = { orders: uniqueName('tc-orders'), refunds: uniqueName('tc-refunds'), clicks: uniqueName('tc-clicks') }
const out = uniqueName('tc-out')
const repartition = `${appId}-by-customer-repartition`

before(async () => {
  await createTopics([
    { name: topics.orders, partitions: 3 },
    { name: topics.refunds, partitions: 3 },
    { name: topics.clicks, partitions: 2 },
    { name: out, partitions: 3 }
  ])
  scaler = await startScaler({
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    defaultBrokers: testBrokers(),
    requestTimeoutMs: 5_000
  })
})

after(async () => {
  await app?.close().catch(() => {})
  await scaler?.close()
  const admin = createAdmin({ brokers: testBrokers() })
  await admin.deleteTopics([...Object.values(topics), out, repartition], { ifExists: true }).catch(() => {})
  await admin.close()
})

/** Same ScaledObject (ns/so) for HTTP and gRPC: one rate history, one policy state. */
const metadata = {
  consumerGroup: appId,
  topics: `${topics.orders},${topics.refunds},${topics.clicks}`,
  perReplicaRate: '1',
  rateWindowSeconds: '4',
  minReplicas: '0',
  maxReplicas: '50'
}

async function metrics(): Promise<MetricsResponse> {
  const { consumerGroup, ...query } = metadata
  const params = new URLSearchParams({ ...query, namespace: 'ns', name: 'so' })
  const response = await fetch(`http://127.0.0.1:${scaler.httpPort}/metrics/${consumerGroup}?${params}`)
  const body = (await response.json()) as MetricsResponse
  assert.equal(response.status, 200, JSON.stringify(body))
  return body
}

test('the replica cap of a multi-topic app is its active tasks, read from its assignment, over HTTP and gRPC', {
  timeout: 120_000
}, async () => {
  const builder = new StreamsBuilder()
  builder
    .stream(topics.orders, serdes)
    .merge(builder.stream(topics.refunds, serdes))
    .repartition({ name: 'by-customer' })
    .to(out, serdes)
  builder.stream(topics.clicks, serdes).to(out, serdes)
  app = new StreamlaneApp(builder.build(), {
    applicationId: appId,
    bootstrapServers: testBrokers(),
    commitIntervalMs: 200
  })
  await app.start()
  assert.equal(app.activeTasks().length, 8)
  await produceNumbered(topics.orders, 300)
  await produceNumbered(topics.clicks, 200)

  // Running: the tasks come from the members' assignment userData; the repartition topic is measured even though
  // the query names only the external topics.
  let running: MetricsResponse | undefined
  await waitFor('the scaler to read the app’s tasks and its repartition commits', async () => {
    running = await metrics()
    return running.tasks.basis === 'assignment' && running.partitions.some((p) => p.topic === repartition)
  })
  assert.equal(running!.tasks.count, 8)
  assert.deepEqual(Object.values(running!.tasks.subtopologies ?? {}).sort(), [2, 3, 3])
  assert.deepEqual(
    [...new Set(running!.partitions.map((p) => p.topic))].sort(),
    [repartition, topics.clicks, topics.orders, topics.refunds].sort()
  )
  assert.equal(running!.partitions.length, 11)
  assert.equal(running!.currentReplicas, 1)

  // At zero, with a backlog far beyond 8 replicas' worth at 1 rec/s each: woken to the 8 tasks, not to 11.
  await app.close()
  app = undefined
  await produceNumbered(topics.orders, 2_000)
  await produceNumbered(topics.refunds, 2_000)
  let woken: MetricsResponse | undefined
  await waitFor('the scaler to see the group empty, with arrivals', async () => {
    woken = await metrics()
    return woken.currentReplicas === 0 && woken.arrivalRate !== null
  })
  assert.equal(woken!.tasks.basis, 'last-assignment')
  assert.equal(woken!.tasks.count, 8)
  assert.equal(woken!.replicas, 8, woken!.reason)
  assert.equal(woken!.value, 8)
  assert.equal(woken!.active, true)

  const client = externalScalerClient(`127.0.0.1:${scaler.grpcPort}`) as grpc.Client & Record<string, unknown>
  try {
    const ref = { name: 'so', namespace: 'ns', scalerMetadata: metadata }
    const metricName = metricNameFor(appId)
    const reply = await new Promise<{ metricValues: { metricName: string; metricValueFloat: number }[] }>(
      (resolve, reject) =>
        (client.GetMetrics as (r: unknown, cb: (e: Error | null, v: never) => void) => void).call(
          client,
          { scaledObjectRef: ref, metricName },
          (error, value) => (error ? reject(error) : resolve(value))
        )
    )
    assert.deepEqual(reply.metricValues, [{ metricName, metricValue: 8, metricValueFloat: 8 }])
  } finally {
    client.close()
  }
})
