import assert from 'node:assert/strict'
import https from 'node:https'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import type { StreamlaneError } from '../../../src/errors.ts'
import { type AppHealth, buildHttpServer, httpSecurity, startHttpServer } from '../../../src/observe/http-server.ts'
import { resolveConfig } from '../../../src/runtime/config.ts'
import { makeTestCerts } from '../../support/certs.ts'

const running: AppHealth = { state: 'RUNNING', live: true, ready: true }

test('/healthz and /ready answer with the status code the probes act on, /metrics with Prometheus text', async () => {
  let health: AppHealth = { state: 'REBALANCING', live: true, ready: false }
  const registry = new Registry()
  const server = buildHttpServer({ registry, health: () => health })
  try {
    assert.equal((await server.inject({ url: '/healthz' })).statusCode, 200)
    const notReady = await server.inject({ url: '/ready' })
    assert.equal(notReady.statusCode, 503)
    assert.deepEqual(notReady.json(), { status: 'not ready', state: 'REBALANCING' })
    health = running
    assert.equal((await server.inject({ url: '/ready' })).statusCode, 200)
    health = { state: 'ERROR', live: false, ready: false }
    const dead = await server.inject({ url: '/healthz' })
    assert.equal(dead.statusCode, 503)
    assert.deepEqual(dead.json(), { status: 'down', state: 'ERROR' })
    const metrics = await server.inject({ url: '/metrics' })
    assert.equal(metrics.statusCode, 200)
    assert.match(metrics.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/)
  } finally {
    await server.close()
  }
})

test('a port that is taken is an error naming metricsPort', async () => {
  const registry = new Registry()
  const first = await startHttpServer({ registry, health: () => running, port: 0, host: '127.0.0.1' })
  try {
    assert.ok(first.port > 0)
    await assert.rejects(
      startHttpServer({ registry, health: () => running, port: first.port, host: '127.0.0.1' }),
      (error: StreamlaneError) =>
        error.code === 'STREAMLANE_METRICS_PORT_UNAVAILABLE' && error.message.includes(`metricsPort ${first.port}`)
    )
  } finally {
    await first.close()
  }
})

test('with a token, /metrics needs it and the probes do not; TLS serves HTTPS only', async () => {
  const certs = makeTestCerts()
  const registry = new Registry()
  const server = await startHttpServer({
    registry,
    health: () => running,
    port: 0,
    host: '127.0.0.1',
    tokens: [{ token: 'scrape-me' }],
    tls: { cert: certs.pem(certs.serverCertFile), key: certs.pem(certs.serverKeyFile) }
  })
  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve, reject) => {
      const request = https.get(
        { host: '127.0.0.1', port: server.port, path, headers, ca: certs.pem(certs.caFile) },
        (response) => {
          response.resume()
          resolve(response.statusCode ?? 0)
        }
      )
      request.once('error', reject)
    })
  try {
    assert.equal(await get('/healthz'), 200)
    assert.equal(await get('/ready'), 200)
    assert.equal(await get('/metrics'), 401)
    assert.equal(await get('/metrics', { authorization: 'Bearer nope' }), 401)
    assert.equal(await get('/metrics', { authorization: 'Bearer scrape-me' }), 200)
    // Plain HTTP on the TLS port gets no answer from the app.
    await assert.rejects(fetch(`http://127.0.0.1:${server.port}/healthz`))
  } finally {
    await server.close()
    certs.remove()
  }
})

test('the endpoint defaults to loopback; the token and TLS files come from the settings', () => {
  assert.equal(resolveConfig({ applicationId: 'a', bootstrapServers: ['k:9092'] }).metricsHost, '127.0.0.1')
  assert.deepEqual(httpSecurity({}), {})
  assert.deepEqual(httpSecurity({ metricsToken: 'abc' }), { tokens: [{ token: 'abc' }] })
  assert.throws(() => httpSecurity({ metricsTlsKeyFile: '/k.pem' }), /metricsTlsCertFile: required/)
})

test('the app endpoint reads no large body (401 before reading, then the body limit); errors and 404s are JSON', async () => {
  const server = buildHttpServer({
    registry: new Registry(),
    health: () => ({ state: 'RUNNING', live: true, ready: true }),
    tokens: [{ token: 't' }]
  })
  try {
    const payload = 'x'.repeat(100_000)
    assert.equal((await server.inject({ method: 'POST', url: '/metrics', payload })).statusCode, 401)
    const authorized = { authorization: 'Bearer t', 'content-type': 'text/plain' }
    const tooLarge = await server.inject({ method: 'POST', url: '/healthz', payload, headers: authorized })
    assert.equal(tooLarge.statusCode, 413)
    assert.equal(tooLarge.json().error.code, 'STREAMLANE_ENDPOINT_REQUEST_INVALID')
    // An unknown route: 401 without the token (the routes are not listed to strangers), a JSON 404 with it.
    assert.equal((await server.inject({ url: '/stores' })).statusCode, 401)
    const unknown = await server.inject({ url: '/stores', headers: { authorization: 'Bearer t' } })
    assert.equal(unknown.statusCode, 404)
    assert.deepEqual(unknown.json(), {
      error: { code: 'STREAMLANE_ENDPOINT_ROUTE_UNKNOWN', message: 'no route GET /stores' }
    })
  } finally {
    await server.close()
  }
})

test('/status needs the token like /metrics; the status page (no data in it) is open, with a strict CSP', async () => {
  const server = buildHttpServer({
    registry: new Registry(),
    health: () => running,
    status: () => ({ totals: { processed: 7 } }),
    ...httpSecurity({ metricsToken: 'page-token' })
  })
  try {
    assert.equal((await server.inject({ url: '/status' })).statusCode, 401)
    const status = await server.inject({ url: '/status', headers: { authorization: 'Bearer page-token' } })
    assert.equal(status.statusCode, 200)
    assert.deepEqual(status.json(), { totals: { processed: 7 } })
    assert.equal(status.headers['cache-control'], 'no-store')
    const page = await server.inject({ url: '/status/page' })
    assert.equal(page.statusCode, 200)
    assert.match(page.headers['content-type'] as string, /^text\/html/)
    assert.match(page.headers['content-security-policy'] as string, /default-src 'none'/)
    assert.match(page.body, /fetch\("\/status"/)
  } finally {
    await server.close()
  }
  const withoutStatus = buildHttpServer({ registry: new Registry(), health: () => running })
  assert.equal((await withoutStatus.inject({ url: '/status/page' })).statusCode, 404)
  await withoutStatus.close()
})

test('with a query token, the routes take it and the server routes the metrics token: the other one is 403', async () => {
  const registry = new Registry()
  const server = buildHttpServer({
    registry,
    health: () => running,
    ...httpSecurity({ metricsToken: 'scrape-me', queryToken: 'read-data' }),
    routes: (routes) => routes.get('/stores/:store/keys/:key', async () => ({ value: 1 }))
  })
  try {
    const get = (url: string, token?: string) =>
      server.inject({ url, headers: token ? { authorization: `Bearer ${token}` } : {} })
    assert.equal((await get('/stores/counts/keys/a', 'read-data')).statusCode, 200)
    assert.equal((await get('/metrics', 'scrape-me')).statusCode, 200)
    const forbidden = await get('/stores/counts/keys/a', 'scrape-me')
    assert.equal(forbidden.statusCode, 403)
    assert.equal(forbidden.json().error.code, 'STREAMLANE_ENDPOINT_FORBIDDEN')
    assert.equal((await get('/metrics', 'read-data')).statusCode, 403)
    for (const token of [undefined, 'neither']) {
      const refused = await get('/stores/counts/keys/a', token)
      assert.equal(refused.statusCode, 401)
      assert.equal(refused.json().error.code, 'STREAMLANE_ENDPOINT_UNAUTHORIZED')
    }
    assert.equal((await get('/ready')).statusCode, 200, 'the probes stay open')
  } finally {
    await server.close()
  }
  // Without a query token the routes take the endpoint's token, as before.
  const shared = buildHttpServer({
    registry,
    health: () => running,
    ...httpSecurity({ metricsToken: 'scrape-me' }),
    routes: (routes) => routes.get('/stores/:store/keys/:key', async () => ({ value: 1 }))
  })
  try {
    const ok = await shared.inject({ url: '/stores/c/keys/a', headers: { authorization: 'Bearer scrape-me' } })
    assert.equal(ok.statusCode, 200)
    assert.equal((await shared.inject({ url: '/stores/c/keys/a' })).statusCode, 401)
  } finally {
    await shared.close()
  }
})

test('a long key in the path reaches its route (up to 8 KiB); a longer one is a JSON 414', async () => {
  const server = buildHttpServer({
    registry: new Registry(),
    health: () => running,
    routes: (app) => {
      app.get<{ Params: { key: string } }>('/stores/:store/keys/:key', async (request) => ({
        length: request.params.key.length
      }))
    }
  })
  try {
    const long = await server.inject({ url: `/stores/s/keys/${'k'.repeat(1_000)}` })
    assert.equal(long.statusCode, 200)
    assert.deepEqual(long.json(), { length: 1_000 })
    const tooLong = await server.inject({ url: `/stores/s/keys/${'k'.repeat(9_000)}` })
    assert.equal(tooLong.statusCode, 414)
    assert.equal(tooLong.json().error.code, 'STREAMLANE_ENDPOINT_REQUEST_INVALID')
  } finally {
    await server.close()
  }
})
