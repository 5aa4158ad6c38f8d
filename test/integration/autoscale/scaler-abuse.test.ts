/**
 * `streamlane scaler` as its own process, as an operator runs it (flags, env, token files), under what anyone who
 * reaches its ports could send: requests without or with wrong tokens, forged reports, oversized bodies, floods of
 * group and instance names and of ScaledObject names, caller-chosen brokers. Everything is refused or bounded, the
 * process's memory stays within a stated bound, and a real group gets the same answer before, during and after.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import { externalScalerClient } from '../../../src/autoscale/keda/proto.ts'
import { createLogger } from '../../../src/observe/logger.ts'
import { ScalerReporter } from '../../../src/runtime/scaler-reporter.ts'
import { waitFor } from '../../support/wait.ts'
import { type KnownLag, setUpKnownLag } from './fixtures/known-lag.ts'

const cli = fileURLToPath(new URL('../../../bin/streamlane.js', import.meta.url))

/**
 * Stated bounds on the scaler's resident memory under two rounds of the flood below (each: 240 bodies of 300 KB,
 * about 3000 names, 600 maximal reports): at most this much growth in all, and at most RSS_REPEAT_BOUND from the
 * second round. Retained state is bounded by the limits; the rest is the collector's and allocator's headroom.
 */
const RSS_GROWTH_BOUND = 160 * 1024 * 1024
/** Below the 72 MiB the round's refused bodies alone would add if they were kept, above the collector's noise (<25). */
const RSS_REPEAT_BOUND = 48 * 1024 * 1024
const MAX_REPORTS = 50
const MAX_REPORT_BYTES = 256 * 1024
const MAX_SCALED_OBJECTS = 100

let known: KnownLag
let scaler: ChildProcess
let dir: string
let http: string
let grpcPort: number
let output = ''

before(async () => {
  known = await setUpKnownLag('abuse')
  dir = mkdtempSync(join(tmpdir(), 'streamlane-abuse-'))
  const reportTokens = join(dir, 'report-tokens')
  // Each app its own token, bound to its group; one unbound token to show the served-groups check on its own.
  writeFileSync(reportTokens, `${known.groups.busy} busy-token\n${known.groups.live} live-token\nany-app-token\n`)
  scaler = spawn(
    process.execPath,
    [
      cli,
      'scaler',
      '--grpc-port',
      '0',
      '--http-port',
      '0',
      '--groups',
      `${known.groups.busy},${known.groups.live}`,
      '--max-reports',
      String(MAX_REPORTS),
      '--max-report-bytes',
      String(MAX_REPORT_BYTES),
      '--max-scaled-objects',
      String(MAX_SCALED_OBJECTS)
    ],
    {
      env: {
        ...process.env,
        KAFKA_BROKERS: known.brokers.join(','),
        STREAMLANE_SCALER_TOKEN: 'reader-token',
        STREAMLANE_SCALER_REPORT_TOKEN_FILE: reportTokens,
        STREAMLANE_LOG_LEVEL: 'info'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  const collect = (chunk: Buffer) => {
    output += chunk.toString()
  }
  scaler.stdout?.on('data', collect)
  scaler.stderr?.on('data', collect)
  const listening = await waitFor('the scaler to listen', () => {
    const line = output.split('\n').find((l) => l.includes('"scaler listening"'))
    return line ? (JSON.parse(line) as { grpcPort: number; httpPort: number; host: string }) : undefined
  })
  assert.equal(listening.host, '127.0.0.1', 'loopback unless configured')
  http = `http://127.0.0.1:${listening.httpPort}`
  grpcPort = listening.grpcPort
})

after(async () => {
  if (scaler && scaler.exitCode === null) {
    scaler.kill('SIGTERM')
    await once(scaler, 'exit')
  }
  await known?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function request(path: string, init: { method?: string; token?: string; body?: string } = {}) {
  const response = await fetch(`${http}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {})
    },
    ...(init.body ? { body: init.body } : {})
  })
  const text = await response.text()
  return { status: response.status, text }
}

/** Runs `count` requests, `parallel` at a time; each must answer `expected`. */
async function flood(count: number, expected: number, make: (i: number) => Promise<{ status: number }>) {
  const parallel = 8
  let next = 0
  const statuses = new Map<number, number>()
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const { status } = await make(next++)
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      }
    })
  )
  assert.deepEqual([...statuses], [[expected, count]])
}

/** A Prometheus series of the scaler's own /metrics. */
async function series(name: string): Promise<number> {
  const { status, text } = await request('/metrics', { token: 'reader-token' })
  assert.equal(status, 200)
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  assert.ok(line, `${name} in /metrics`)
  return Number(line.slice(name.length + 1))
}

/** What KEDA's metrics-api trigger asks for the real group. */
async function realAnswer(): Promise<{ value: number; lag: number; rebalance: boolean; reporting: number }> {
  const { status, text } = await request(`/metrics/${known.groups.busy}?name=real`, { token: 'reader-token' })
  assert.equal(status, 200, text)
  const body = JSON.parse(text) as {
    value: number
    lag: number
    instances: { rebalanceInProgress: boolean; reporting: number }
  }
  return {
    value: body.value,
    lag: body.lag,
    rebalance: body.instances.rebalanceInProgress,
    reporting: body.instances.reporting
  }
}

const report = (groupId: string, extra: object = {}) => JSON.stringify({ groupId, instanceId: 'pod-0', ...extra })
const large = (groupId: string) => report(groupId, { padding: 'x'.repeat(300 * 1024) })

test('forged reports from callers without the right token are refused and change nothing', async () => {
  const baseline = await realAnswer()
  assert.equal(baseline.lag, known.lag.busy)
  assert.equal(baseline.rebalance, false)
  const forgedRebalance = report(known.groups.busy, { rebalanceInProgress: true })
  const forgedRate = report(known.groups.busy, { trueProcessingRate: 0.001 })
  assert.equal((await request('/reports', { method: 'POST', body: forgedRebalance })).status, 401)
  assert.equal((await request('/reports', { method: 'POST', body: forgedRate, token: 'guess' })).status, 401)
  assert.equal((await request('/reports', { method: 'POST', body: forgedRate, token: 'reader-token' })).status, 401)
  const otherApp = await request('/reports', { method: 'POST', body: forgedRate, token: 'live-token' })
  assert.equal(otherApp.status, 403, "the live app's token cannot report for the busy group")
  assert.deepEqual(await realAnswer(), baseline, 'nothing forged reached the decision')
})

/**
 * One round of abuse: 240 bodies of 300 KB (no token, a wrong one, a valid one but too large), 2000 group names
 * (reports and queries for groups not served), 200 unauthenticated queries, 600 maximal reports from an
 * authenticated instance under distinct ids, 300 ScaledObject names for a served group. Every answer is checked, and
 * the real group's answer between phases.
 */
async function abuse(round: number, baseline: Awaited<ReturnType<typeof realAnswer>>): Promise<void> {
  await flood(80, 401, () => request('/reports', { method: 'POST', body: large(known.groups.busy) }))
  await flood(80, 401, () => request('/reports', { method: 'POST', token: 'nope', body: large(known.groups.busy) }))
  await flood(80, 413, () =>
    request('/reports', { method: 'POST', token: 'busy-token', body: large(known.groups.busy) })
  )
  assert.deepEqual(await realAnswer(), baseline)
  await flood(1_000, 403, (i) =>
    request('/reports', { method: 'POST', token: 'any-app-token', body: report(`flood-${round}-${i}`) })
  )
  await flood(1_000, 403, (i) => request(`/metrics/flood-${round}-${i}`, { token: 'reader-token' }))
  await flood(200, 401, (i) => request(`/metrics/flood-${round}-${i}`))
  assert.deepEqual(await realAnswer(), baseline)
  const padding = {
    memberId: 'm'.repeat(255),
    warmups: Array.from({ length: 200 }, (_, i) => ({ task: `0_${i}`, progress: 0.5 }))
  }
  await flood(600, 204, (i) =>
    request('/reports', {
      method: 'POST',
      token: 'live-token',
      body: JSON.stringify({ groupId: known.groups.live, instanceId: `i-${round}-${i}`, ...padding })
    })
  )
  await flood(300, 200, (i) => request(`/metrics/${known.groups.busy}?name=n-${round}-${i}`, { token: 'reader-token' }))
  assert.deepEqual(await realAnswer(), baseline)
  assert.ok((await series('streamlane_scaler_state_entries{store="reports"}')) <= MAX_REPORTS)
  assert.ok((await series('streamlane_scaler_state_bytes{store="reports"}')) <= MAX_REPORT_BYTES)
  assert.ok((await series('streamlane_scaler_state_entries{store="scaled_objects"}')) <= MAX_SCALED_OBJECTS)
  assert.ok((await series('streamlane_scaler_state_entries{store="rate_histories"}')) <= 2_000)
}

test('floods are refused or bounded, memory stays bounded, and the real group keeps its answer', {
  timeout: 240_000
}, async (t) => {
  const baseline = await realAnswer()
  const rssBefore = await series('process_resident_memory_bytes')
  await abuse(1, baseline)
  const rssAfterOne = await series('process_resident_memory_bytes')
  await abuse(2, baseline)
  const rssAfterTwo = await series('process_resident_memory_bytes')
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`
  const growth = `RSS ${mib(rssBefore)} -> ${mib(rssAfterOne)} -> ${mib(rssAfterTwo)}`
  t.diagnostic(`scaler ${growth} over two rounds of abuse`)
  // The first round leaves garbage-collector and allocator headroom (the discarded bodies are garbage, not state);
  // a second, equal round must not add to it: what is retained is bounded by the limits, not by the traffic.
  assert.ok(rssAfterTwo - rssBefore < RSS_GROWTH_BOUND, `${growth}; bound ${mib(RSS_GROWTH_BOUND)} over both rounds`)
  assert.ok(rssAfterTwo - rssAfterOne < RSS_REPEAT_BOUND, `${growth}; a repeat may add ${mib(RSS_REPEAT_BOUND)}`)
  assert.ok((await series('streamlane_scaler_state_evictions_total{store="reports"}')) >= 2 * 600 - MAX_REPORTS)
  assert.ok((await series('streamlane_scaler_state_evictions_total{store="scaled_objects"}')) > 0)
  assert.ok((await series('streamlane_scaler_requests_refused_total{endpoint="http",reason="token-missing"}')) >= 560)
  assert.ok((await series('streamlane_scaler_requests_refused_total{endpoint="http",reason="body-too-large"}')) >= 160)
  assert.ok(
    (await series('streamlane_scaler_requests_refused_total{endpoint="http",reason="group-not-served"}')) >= 2000
  )
  assert.equal(scaler.exitCode, null, 'the scaler is still running')
  assert.doesNotMatch(output, /busy-token|live-token|any-app-token|reader-token/, 'tokens are never logged')
})

test('an authenticated app instance reports through the app-side reporter, and it counts', async () => {
  const reporter = new ScalerReporter({
    scalerUrl: http,
    groupId: known.groups.busy,
    instanceId: 'busy-0',
    intervalMs: 1_000,
    token: 'busy-token',
    status: () => ({ processed: 0, busyMs: 0, rebalanceInProgress: true, restoringTasks: 0 }),
    logger: createLogger()
  })
  await reporter.report()
  const { status, text } = await request(`/metrics/${known.groups.busy}?name=with-report`, { token: 'reader-token' })
  assert.equal(status, 200, text)
  const body = JSON.parse(text) as { instances: { reporting: number; rebalanceInProgress: boolean } }
  assert.equal(body.instances.reporting, 1)
  assert.equal(body.instances.rebalanceInProgress, true)
})

test('caller-chosen brokers are refused before any connection, the same way for open and closed ports', async () => {
  const scalerOwnPort = new URL(http).port
  const answers = []
  for (const target of ['127.0.0.1:1', `127.0.0.1:${scalerOwnPort}`, '169.254.169.254:80']) {
    const { status, text } = await request(`/metrics/${known.groups.busy}?bootstrapServers=${target}`, {
      token: 'reader-token'
    })
    assert.equal(status, 403, text)
    const error = (JSON.parse(text) as { error: { code: string; message: string } }).error
    assert.equal(error.code, 'STREAMLANE_SCALER_NOT_ALLOWED')
    answers.push(error.message.replace(target, '<target>'))
  }
  assert.equal(new Set(answers).size, 1, 'open and closed ports are indistinguishable')

  const client = externalScalerClient(`127.0.0.1:${grpcPort}`)
  try {
    const ref = {
      name: 'ssrf',
      namespace: 'x',
      scalerMetadata: { consumerGroup: known.groups.busy, bootstrapServers: '127.0.0.1:22' }
    }
    const error = await new Promise<grpc.ServiceError>((resolve, reject) => {
      const isActive = client.IsActive as (r: unknown, cb: (e: grpc.ServiceError | null) => void) => void
      isActive.call(client, ref, (e) => (e ? resolve(e) : reject(new Error('IsActive answered'))))
    })
    assert.equal(error.code, grpc.status.PERMISSION_DENIED)
    assert.match(error.details, /STREAMLANE_SCALER_NOT_ALLOWED: metadata\.bootstrapServers/)
  } finally {
    client.close()
  }
})
