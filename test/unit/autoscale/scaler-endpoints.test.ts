/**
 * The scaler's doors, against a cluster in memory: tokens on HTTP, reports only from authenticated instances for
 * served groups, body limits, TLS and client certificates on gRPC, and the local autoscaler's report endpoint.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import https from 'node:https'
import { test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { externalScalerClient } from '../../../src/autoscale/keda/proto.ts'
import { startScaler } from '../../../src/autoscale/keda/start.ts'
import { startReportEndpoint } from '../../../src/autoscale/local/report-endpoint.ts'
import { InstanceReportStore } from '../../../src/autoscale/signals/report-store.ts'
import { loadServerTls } from '../../../src/endpoint/index.ts'
import { makeTestCerts } from '../../support/certs.ts'
import { fakeAdmin, fakeCluster } from './signals-fake-admin.ts'

const cluster = () =>
  fakeCluster({
    topics: { t: { start: [0, 0], end: [100, 100] } },
    groups: {
      orders: { state: 'Empty', commits: { t: { 0: 50, 1: 100 } } },
      refunds: { state: 'Empty', commits: { t: { 0: 100, 1: 100 } } }
    }
  })

async function post(url: string, body: string, token?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body
  })
  const text = await response.text()
  return { status: response.status, body: text ? (JSON.parse(text) as { error?: { code: string } }) : {} }
}

test('HTTP: tokens on reads and reports, reports only for served groups, bounded bodies; probes stay open', async () => {
  const scaler = await startScaler({
    grpcPort: null,
    httpPort: 0,
    defaultBrokers: ['k:1'],
    adminFactory: () => fakeAdmin(cluster()),
    access: { groups: ['orders', 'refunds'] },
    readTokens: [{ token: 'reader' }],
    reportTokens: [{ token: 'orders-app', group: 'orders' }, { token: 'any-app' }]
  })
  const base = `http://127.0.0.1:${scaler.httpPort}`
  const get = async (path: string, token?: string) => {
    const response = await fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {})
    return { status: response.status, text: await response.text() }
  }
  try {
    assert.equal((await get('/healthz')).status, 200)
    assert.equal((await get('/metrics/orders')).status, 401)
    assert.equal((await get('/metrics/orders', 'orders-app')).status, 401, 'a report token cannot read')
    assert.equal((await get('/%6detrics/orders')).status, 401, 'an encoded path takes the same rule')
    const read = await get('/metrics/orders', 'reader')
    assert.equal(read.status, 200, read.text)
    assert.equal(JSON.parse(read.text).lag, 50)
    assert.equal((await get('/metrics/elsewhere', 'reader')).status, 403)
    // The decisions behind the status page: guarded like /metrics; the page itself holds no data and is open.
    assert.equal((await get('/status')).status, 401)
    const status = JSON.parse((await get('/status', 'reader')).text)
    assert.deepEqual(
      status.objects.map((o: { key: string; group: string; points: unknown[] }) => [o.key, o.group, o.points.length]),
      [['metrics-api/orders', 'orders', 1]]
    )
    const page = await fetch(`${base}/status/page`)
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/)
    assert.match(await page.text(), /<title>Streamlane scaler<\/title>/)

    const rebalance = JSON.stringify({ groupId: 'orders', instanceId: 'forger', rebalanceInProgress: true })
    const rate = JSON.stringify({ groupId: 'orders', instanceId: 'forger', trueProcessingRate: 0.001 })
    assert.equal((await post(`${base}/reports`, rebalance)).status, 401)
    assert.equal((await post(`${base}/reports`, rate, 'guess')).status, 401)
    assert.equal((await post(`${base}/reports`, rate, 'reader')).status, 401)
    const otherGroup = await post(`${base}/reports`, rebalance.replace('"orders"', '"refunds"'), 'orders-app')
    assert.equal(otherGroup.status, 403, 'a token bound to orders cannot report for refunds')
    assert.equal(otherGroup.body.error?.code, 'STREAMLANE_SCALER_NOT_ALLOWED')
    assert.equal((await post(`${base}/reports`, rebalance.replace('"orders"', '"nobody"'), 'any-app')).status, 403)
    const huge = JSON.stringify({ groupId: 'orders', instanceId: 'pod-0', padding: 'x'.repeat(300_000) })
    assert.equal((await post(`${base}/reports`, huge)).status, 401, 'refused before the body is read')
    assert.equal((await post(`${base}/reports`, huge, 'orders-app')).status, 413)
    assert.equal(scaler.reports.size.reports, 0, 'nothing forged was stored')
    const after = JSON.parse((await get('/metrics/orders?name=check', 'reader')).text)
    assert.equal(after.instances.rebalanceInProgress, false)
    assert.equal(after.instances.trueRatePerInstance, undefined)

    const good = JSON.stringify({ groupId: 'orders', instanceId: 'pod-0', trueProcessingRate: 40 })
    assert.equal((await post(`${base}/reports`, good, 'orders-app')).status, 204)
    assert.equal(scaler.reports.size.reports, 1)

    const prometheus = await get('/metrics', 'reader')
    assert.equal((await get('/metrics')).status, 401)
    assert.match(
      prometheus.text,
      /streamlane_scaler_requests_refused_total\{endpoint="http",reason="token-missing"\} [3-9]/
    )
    assert.match(
      prometheus.text,
      /streamlane_scaler_requests_refused_total\{endpoint="http",reason="body-too-large"\} 1/
    )
    assert.match(prometheus.text, /streamlane_scaler_state_entries\{store="reports"\} 1/)
    assert.match(prometheus.text, /process_resident_memory_bytes \d+/)
  } finally {
    await scaler.close()
  }
})

test('HTTP: without a report token every report is refused; without --groups only evaluated groups are served', async () => {
  const open = await startScaler({
    grpcPort: null,
    httpPort: 0,
    defaultBrokers: ['k:1'],
    adminFactory: () => fakeAdmin(cluster())
  })
  try {
    const body = JSON.stringify({ groupId: 'orders', instanceId: 'pod-0' })
    assert.equal((await post(`http://127.0.0.1:${open.httpPort}/reports`, body, 'x')).status, 401)
  } finally {
    await open.close()
  }
  const scaler = await startScaler({
    grpcPort: null,
    httpPort: 0,
    defaultBrokers: ['k:1'],
    adminFactory: () => fakeAdmin(cluster()),
    reportTokens: [{ token: 'app' }]
  })
  const base = `http://127.0.0.1:${scaler.httpPort}`
  try {
    const body = JSON.stringify({ groupId: 'orders', instanceId: 'pod-0' })
    assert.equal((await post(`${base}/reports`, body, 'app')).status, 403, 'nobody asked about orders yet')
    assert.equal((await fetch(`${base}/metrics/orders`)).status, 200)
    assert.equal((await post(`${base}/reports`, body, 'app')).status, 204)
  } finally {
    await scaler.close()
  }
})

function call<T>(client: grpc.Client & Record<string, unknown>, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as (
      r: unknown,
      options: grpc.CallOptions,
      cb: (e: grpc.ServiceError | null, v: T) => void
    ) => void
    fn.call(client, request, { deadline: Date.now() + 5_000 }, (error, value) =>
      error ? reject(error) : resolve(value)
    )
  })
}

test('gRPC over TLS with client certificates (KEDA enableTLS + caCert/tlsClientCert/tlsClientKey)', async () => {
  const certs = makeTestCerts()
  const tls = loadServerTls(
    { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientCaFile: certs.caFile },
    { certFile: 'cert', keyFile: 'key', clientCaFile: 'ca' }
  )
  const scaler = await startScaler({
    grpcPort: 0,
    httpPort: 0,
    defaultBrokers: ['k:1'],
    adminFactory: () => fakeAdmin(cluster()),
    ...(tls ? { tls } : {})
  })
  const address = `localhost:${scaler.grpcPort}`
  const ref = { name: 'so', namespace: 'ns', scalerMetadata: { consumerGroup: 'orders', enableTLS: 'true' } }
  const ca = certs.pem(certs.caFile)
  const keda = externalScalerClient(
    address,
    grpc.credentials.createSsl(ca, certs.pem(certs.clientKeyFile), certs.pem(certs.clientCertFile))
  )
  const noCert = externalScalerClient(address, grpc.credentials.createSsl(ca))
  const stranger = externalScalerClient(
    address,
    grpc.credentials.createSsl(ca, certs.pem(certs.strangerKeyFile), certs.pem(certs.strangerCertFile))
  )
  const plaintext = externalScalerClient(address, grpc.credentials.createInsecure())
  try {
    const metrics = await call<{ metricValues: { metricValueFloat: number }[] }>(keda, 'GetMetrics', {
      scaledObjectRef: ref,
      metricName: 'streamlane-lag-orders'
    })
    assert.equal(metrics.metricValues[0]?.metricValueFloat, 1)
    assert.deepEqual(await call(keda, 'IsActive', ref), { result: true })
    for (const [who, client] of [
      ['no client certificate', noCert],
      ['a certificate another CA signed', stranger],
      ['plaintext', plaintext]
    ] as const) {
      await assert.rejects(call(client, 'IsActive', ref), (e: grpc.ServiceError) => {
        assert.equal(e.code, grpc.status.UNAVAILABLE, `${who}: ${e.message}`)
        return true
      })
    }
    // The HTTP port serves HTTPS with the same certificate (tokens, not client certificates, guard it).
    const health = await fetch(`http://127.0.0.1:${scaler.httpPort}/healthz`).catch((e: Error) => e)
    assert.ok(health instanceof Error, 'no plaintext answer on the HTTPS port')
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get({ host: 'localhost', port: scaler.httpPort ?? 0, path: '/metrics/orders', ca }, (response) => {
          response.resume()
          resolve(response.statusCode ?? 0)
        })
        .once('error', reject)
    })
    assert.equal(status, 200, 'HTTPS without a client certificate: the metrics-api answers')
  } finally {
    for (const client of [keda, noCert, stranger, plaintext]) client.close()
    await scaler.close()
    certs.remove()
  }
})

test('gRPC: a ScaledObject asking for TLS from a plaintext scaler gets an error naming the setting', async () => {
  const scaler = await startScaler({
    grpcPort: 0,
    httpPort: null,
    defaultBrokers: ['k:1'],
    adminFactory: () => fakeAdmin(cluster())
  })
  const client = externalScalerClient(`127.0.0.1:${scaler.grpcPort}`)
  try {
    const ref = { name: 'so', namespace: 'ns', scalerMetadata: { consumerGroup: 'orders', enableTLS: 'true' } }
    await assert.rejects(call(client, 'IsActive', ref), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT)
      assert.match(e.details, /enableTLS is true but this scaler serves plaintext gRPC: .*--tls-cert-file/)
      return true
    })
    const ssrf = {
      name: 'so',
      namespace: 'ns',
      scalerMetadata: { consumerGroup: 'orders', bootstrapServers: '10.0.0.1:22' }
    }
    await assert.rejects(call(client, 'IsActive', ssrf), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.PERMISSION_DENIED)
      assert.match(e.details, /STREAMLANE_SCALER_NOT_ALLOWED/)
      return true
    })
  } finally {
    client.close()
    await scaler.close()
  }
})

test('local autoscaler: reports need the per-run token and its group; bodies are bounded', async () => {
  const reports = new InstanceReportStore()
  const endpoint = await startReportEndpoint({
    reports,
    status: () => ({ ok: true }),
    host: '127.0.0.1',
    port: 0,
    groupId: 'workers',
    reportTokens: [{ token: 'run-token', group: 'workers' }]
  })
  try {
    const body = JSON.stringify({ groupId: 'workers', instanceId: 'w-0', rebalanceInProgress: true })
    assert.equal((await post(`${endpoint.url}/reports`, body)).status, 401)
    assert.equal((await post(`${endpoint.url}/reports`, body, 'wrong')).status, 401)
    assert.equal((await post(`${endpoint.url}/reports`, body.replace('"workers"', '"other"'), 'run-token')).status, 403)
    const huge = JSON.stringify({ groupId: 'workers', instanceId: 'w-0', padding: 'x'.repeat(100_000) })
    assert.equal((await post(`${endpoint.url}/reports`, huge, 'run-token')).status, 413)
    assert.equal(reports.size.reports, 0)
    assert.equal((await post(`${endpoint.url}/reports`, body, 'run-token')).status, 204)
    assert.equal((await fetch(`${endpoint.url}/healthz`)).status, 200)
  } finally {
    await endpoint.close()
  }
})

test('gRPC: open StreamIsActive streams are bounded; one more is refused with RESOURCE_EXHAUSTED', async () => {
  const scaler = await startScaler({
    grpcPort: 0,
    httpPort: null,
    defaultBrokers: ['k:1'],
    adminFactory: () => fakeAdmin(cluster()),
    limits: { maxObjects: 2 }
  })
  const client = externalScalerClient(`127.0.0.1:${scaler.grpcPort}`)
  const open = (name: string) =>
    (client.StreamIsActive as (r: unknown) => grpc.ClientReadableStream<{ result: boolean }>).call(client, {
      name,
      namespace: 'ns',
      scalerMetadata: { consumerGroup: 'orders' }
    })
  const streams = [open('a'), open('b')]
  try {
    // Both are served: each pushes its first answer.
    await Promise.all(streams.map((s) => once(s, 'data')))
    const third = open('c')
    const [error] = (await once(third, 'error')) as [grpc.ServiceError]
    assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED)
    assert.match(error.details, /2 streams are open already/)
  } finally {
    for (const s of streams) {
      s.on('error', () => {}) // the CANCELLED status the cancel below causes
      s.cancel()
    }
    client.close()
    await scaler.close()
  }
})
