import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type RunningScaler, startScaler } from '../../../src/autoscale/keda/start.ts'
import type { MetricsResponse } from '../../../src/autoscale/metrics-api/server.ts'
import { type KnownLag, setUpKnownLag } from './fixtures/known-lag.ts'

let known: KnownLag
let scaler: RunningScaler
let base: string

before(async () => {
  known = await setUpKnownLag('metrics-api')
  // The server's default brokers stand in for bootstrapServers in every query below but one.
  scaler = await startScaler({
    host: '127.0.0.1',
    grpcPort: null,
    httpPort: 0,
    defaultBrokers: known.brokers,
    // A closed port the operator allowed: the one query below that names another cluster gets the broker error.
    access: { allowedBrokers: ['127.0.0.1:1'] },
    reportTokens: [{ token: 'report-token' }],
    requestTimeoutMs: 3_000,
    connectTimeoutMs: 1_000
  })
  base = `http://127.0.0.1:${scaler.httpPort}`
})

after(async () => {
  await scaler?.close()
  await known?.close()
})

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

function errorOf(body: Record<string, unknown>): { code: string; message: string; field?: string } {
  return body.error as { code: string; message: string; field?: string }
}

test('GET /healthz', async () => {
  const { status, body } = await get('/healthz')
  assert.equal(status, 200)
  assert.equal(body.status, 'ok')
})

test('GET /metrics/:group gives the value, the decision and per-partition lag with its basis', async () => {
  const { status, body } = await get(`/metrics/${known.groups.busy}?topics=${known.topic}&minReplicas=2`)
  assert.equal(status, 200, JSON.stringify(body))
  const m = body as unknown as MetricsResponse
  assert.equal(m.lag, known.lag.busy)
  assert.deepEqual(
    m.partitions.map((p) => [p.partition, p.logStartOffset, p.endOffset, p.committedOffset, p.lag, p.lagBasis]),
    [
      [0, 0, 10, 4, 6, 'committed'],
      [1, 0, 20, 20, 0, 'committed'],
      // The stale commit (5) is behind the log start (10): only the 20 records still there count (KEDA #7936).
      [2, 10, 30, 5, 20, 'committed-before-log-start']
    ]
  )
  assert.equal(m.currentReplicas, 0)
  assert.equal(m.replicas, 2)
  assert.equal(m.value, 2)
  assert.equal(m.targetSize, 1)
  assert.equal(m.active, true)
  assert.match(m.reason, /first arrivals after zero/)
  assert.equal(m.noCommittedOffsets, false)
})

test('a group that never committed counts lag from the log start, and says so', async () => {
  const { status, body } = await get(`/metrics/${known.groups.never}?topics=${known.topic}&allowUnknownGroup=true`)
  assert.equal(status, 200, JSON.stringify(body))
  const m = body as unknown as MetricsResponse
  assert.equal(m.lag, known.lag.never)
  assert.deepEqual(
    m.partitions.map((p) => [p.lag, p.lagBasis, p.committedOffset]),
    [
      [10, 'no-commit', null],
      [20, 'no-commit', null],
      [20, 'no-commit', null]
    ]
  )
  assert.equal(m.noCommittedOffsets, true)
  assert.match(m.reason, /no committed offsets: lag counted from the log start/)
  assert.equal(m.value, 1)
})

test('topics default to what the group committed on or is assigned; members are listed', async () => {
  const { status, body } = await get(`/metrics/${known.groups.live}?perReplicaRate=1&lagDrainTargetSeconds=2`)
  assert.equal(status, 200, JSON.stringify(body))
  const m = body as unknown as MetricsResponse
  assert.deepEqual([...new Set(m.partitions.map((p) => p.topic))], [known.topic])
  assert.equal(m.members.length, 1)
  assert.equal(m.members[0]?.partitions, 3)
  assert.equal(m.state, 'Stable')
  assert.equal(m.currentReplicas, 1)
  assert.equal(m.replicas, 3)
  assert.equal(m.value, 3)
})

test('self-reports are validated, stored and summarised in the signals', async () => {
  const bad = await fetch(`${base}/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer report-token' },
    body: JSON.stringify({ groupId: known.groups.live, instanceId: 'pod-0', busyRatio: 3 })
  })
  assert.equal(bad.status, 400)
  assert.equal(errorOf((await bad.json()) as Record<string, unknown>).field, 'report.busyRatio')

  const good = await fetch(`${base}/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer report-token' },
    body: JSON.stringify({
      groupId: known.groups.live,
      instanceId: 'pod-0',
      trueProcessingRate: 250,
      restoringTasks: 1,
      warmups: [{ task: '0_2', progress: 0.4 }]
    })
  })
  assert.equal(good.status, 204)
  // A different ScaledObject name gets fresh policy state; the reports belong to the group.
  const { body } = await get(`/metrics/${known.groups.live}?name=with-reports`)
  const m = body as unknown as MetricsResponse
  assert.equal(m.instances.reporting, 1)
  assert.equal(m.instances.trueRatePerInstance, 250)
  assert.equal(m.instances.restorationInProgress, true)
  assert.equal(m.instances.warmupProgress, 0.4)
  // Restoring pods pause processing on purpose: the lag they cause is not missing capacity, so the count holds.
  assert.match(m.reason, /restoration in progress/)
  assert.equal(m.replicas, m.currentReplicas)
})

test('errors are JSON with a status and a code, never a zero value', async () => {
  const unknownGroup = await get(`/metrics/${known.groups.never}-typo`)
  assert.equal(unknownGroup.status, 404)
  assert.equal(errorOf(unknownGroup.body).code, 'STREAMLANE_SCALER_GROUP_UNKNOWN')
  assert.equal(unknownGroup.body.value, undefined)

  const unknownTopic = await get(`/metrics/${known.groups.busy}?topics=${known.topic}-missing`)
  assert.equal(unknownTopic.status, 404)
  assert.equal(errorOf(unknownTopic.body).code, 'STREAMLANE_SCALER_TOPIC_UNKNOWN')
  assert.match(errorOf(unknownTopic.body).message, new RegExp(`${known.topic}-missing`))

  const typo = await get(`/metrics/${known.groups.busy}?maxReplica=3`)
  assert.equal(typo.status, 400)
  assert.equal(errorOf(typo.body).field, 'query.maxReplica')

  const badNumber = await get(`/metrics/${known.groups.busy}?maxReplicas=lots`)
  assert.equal(badNumber.status, 400)
  assert.equal(errorOf(badNumber.body).field, 'query.maxReplicas')

  const unreachable = await get(`/metrics/${known.groups.busy}?bootstrapServers=127.0.0.1:1`)
  assert.equal(unreachable.status, 503)
  assert.equal(errorOf(unreachable.body).code, 'STREAMLANE_SCALER_KAFKA_UNAVAILABLE')
  assert.match(errorOf(unreachable.body).message, /127\.0\.0\.1:1/)

  const elsewhere = await get(`/metrics/${known.groups.busy}?bootstrapServers=10.1.2.3:22`)
  assert.equal(elsewhere.status, 403)
  assert.equal(errorOf(elsewhere.body).code, 'STREAMLANE_SCALER_NOT_ALLOWED')
  assert.doesNotMatch(errorOf(elsewhere.body).message, /127\.0\.0\.1:1/, 'the allowed brokers are not disclosed')

  const route = await get('/nope')
  assert.equal(route.status, 404)
  assert.equal(errorOf(route.body).code, 'STREAMLANE_SCALER_ROUTE_UNKNOWN')
})
