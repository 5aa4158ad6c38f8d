/**
 * Interactive queries: point lookups per second and their latency (p50, p99) through the query endpoint of two
 * word-count instances (`streamlane run`, each its own process), for keys the asked instance holds (answered
 * locally) and keys the other holds (forwarded, one HTTP hop). The references, in the same run and with the same load
 * generator: a plain Node HTTP server answering a fixed JSON body of the same size, and the same server behind a
 * one-hop fetch() proxy (what forwarding adds at the least).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { createProducer } from '../src/kafka/producer.ts'
import { freshStateDir, otherCell, removeStateDirs } from './lib/app-runs.ts'
import type { BenchContext } from './lib/bench-context.ts'
import type { Benchmark, BenchmarkReport } from './lib/benchmark.ts'
import { type CpuReading, processCpuSeconds, startCpuMeter } from './lib/cpu-meter.ts'
import { fixed, integer, markdownTable } from './lib/table.ts'

const WORDS = 1_000
const CONCURRENCY = 8
const SECONDS = 5
const TOKEN = 'bench-query-token'
const cli = fileURLToPath(new URL('../bin/streamlane.js', import.meta.url))
const wordCountModule = fileURLToPath(new URL('../examples/word-count/app.ts', import.meta.url))

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (typeof address !== 'object' || !address) throw new Error('no port')
  return address.port
}

function start(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
}

/** The reference servers: a fixed JSON answer, and a proxy that fetches it per request (the forwarding hop). */
const ECHO = `
const http = require('node:http')
const [port, body, upstream] = [Number(process.argv[1]), process.argv[2], process.argv[3]]
http.createServer(async (request, response) => {
  response.setHeader('content-type', 'application/json; charset=utf-8')
  if (!upstream) return response.end(body)
  const answer = await fetch(upstream + request.url, { headers: { authorization: request.headers.authorization ?? '' } })
  response.statusCode = answer.status
  response.end(await answer.text())
}).listen(port, '127.0.0.1')
`

interface LoadRun {
  label: string
  requests: number
  failed: number
  qps: number
  p50: number
  p99: number
  childCpuSeconds: number
  cpu: CpuReading
}

/** CONCURRENCY loops asking `urls` round-robin for SECONDS; latency of each answer; CPU of the servers' processes. */
async function load(ctx: BenchContext, label: string, urls: string[], servers: ChildProcess[]): Promise<LoadRun> {
  const headers = { authorization: `Bearer ${TOKEN}` }
  const warmUntil = performance.now() + 1_000
  let next = 0
  const ask = async () => {
    const response = await fetch(urls[next++ % urls.length]!, { headers })
    await response.arrayBuffer()
    return response.status === 200
  }
  while (performance.now() < warmUntil) await Promise.all(Array.from({ length: CONCURRENCY }, ask))
  const cpuOf = () => servers.reduce((sum, s) => sum + (processCpuSeconds(s.pid!) ?? 0), 0)
  const childBefore = cpuOf()
  const meter = startCpuMeter(ctx.brokerPid)
  const latencies: number[] = []
  let failed = 0
  const end = performance.now() + SECONDS * 1_000
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const began = performance.now()
        if (!(await ask())) failed++
        latencies.push(performance.now() - began)
      }
    })
  )
  const childCpuSeconds = cpuOf() - childBefore
  const cpu = meter.stop(childCpuSeconds)
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!
  return {
    label,
    requests: latencies.length,
    failed,
    qps: latencies.length / cpu.wallSeconds,
    p50: at(0.5),
    p99: at(0.99),
    childCpuSeconds,
    cpu
  }
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await delay(200)
  }
}

async function run(ctx: BenchContext): Promise<BenchmarkReport> {
  const lines = ctx.uniqueName('bench-query-lines')
  const counts = ctx.uniqueName('bench-query-counts')
  await ctx.admin.createTopics([
    { name: lines, partitions: 6 },
    { name: counts, partitions: 6 }
  ])
  const appId = ctx.uniqueName('bench-query')
  const hosts = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`]
  const processes: ChildProcess[] = []
  try {
    const instances = hosts.map((host) =>
      start([cli, 'run', wordCountModule], {
        KAFKA_BROKERS: ctx.bootstrap,
        STREAMLANE_APPLICATION_ID: appId,
        STREAMLANE_STATE_DIR: freshStateDir('query'),
        STREAMLANE_APPLICATION_SERVER: host,
        STREAMLANE_METRICS_TOKEN: TOKEN,
        STREAMLANE_QUERY_MAX_CONCURRENT: '64',
        STREAMLANE_LOG_LEVEL: 'warn',
        LINES_TOPIC: lines,
        WORD_COUNTS_TOPIC: counts
      })
    )
    processes.push(...instances)
    const a = hosts[0]!
    await until('2 instances with a 2-host map', async () => {
      const answers = await Promise.all(hosts.map((h) => getJson(`http://${h}/query/metadata`)))
      return answers.every((x) => x.status === 200 && (x.body.instances as unknown[]).length === 2)
    })
    const producer = createProducer({ brokers: ctx.brokers })
    const words = Array.from({ length: WORDS }, (_, i) => `word${i}`)
    await producer.send(words.map((w, i) => ({ topic: lines, key: Buffer.from(`l${i}`), value: Buffer.from(w) })))
    await producer.close()
    await until('every word counted', async () => {
      const { status, body } = await getJson(`http://${a}/stores/counts/keys?limit=1000`)
      return status === 200 && (body.entries as unknown[]).length === WORDS
    })
    const local: string[] = []
    const forwarded: string[] = []
    let sample = ''
    for (const word of words) {
      const { body } = await getJson(`http://${a}/stores/counts/keys/${word}`)
      ;(body.host === a ? local : forwarded).push(`http://${a}/stores/counts/keys/${word}`)
      sample ||= JSON.stringify(body)
    }
    ctx.log(`${local.length} words held by the asked instance, ${forwarded.length} by the other`)

    const echoPort = await freePort()
    const proxyPort = await freePort()
    const echo = start(['-e', ECHO, String(echoPort), sample], {})
    const proxy = start(['-e', ECHO, String(proxyPort), sample, `http://127.0.0.1:${echoPort}`], {})
    processes.push(echo, proxy)
    await until('the reference servers', async () => (await fetch(`http://127.0.0.1:${proxyPort}/x`)).ok)

    const runs = [
      await ctx.measure('echo', () =>
        load(ctx, 'plain HTTP server, fixed answer', [`http://127.0.0.1:${echoPort}/x`], [echo])
      ),
      await ctx.measure('echo via proxy', () =>
        load(ctx, 'the same behind a one-hop fetch() proxy', [`http://127.0.0.1:${proxyPort}/x`], [echo, proxy])
      ),
      await ctx.measure('local', () => load(ctx, 'Streamlane, key held by the asked instance', local, instances)),
      await ctx.measure('forwarded', () => load(ctx, 'Streamlane, key forwarded to the other', forwarded, instances))
    ]
    const row = (r: (typeof runs)[number]) => [
      r.result.label,
      integer(r.result.requests),
      r.result.failed,
      integer(r.result.qps),
      fixed(r.result.p50),
      fixed(r.result.p99),
      fixed(r.result.childCpuSeconds),
      fixed(r.result.cpu.ownCpuSeconds),
      otherCell(r)
    ]
    const [echoRun, proxyRun, localRun, forwardedRun] = runs as [
      (typeof runs)[0],
      (typeof runs)[0],
      (typeof runs)[0],
      (typeof runs)[0]
    ]
    const ratio = (label: string, ours: LoadRun, ref: LoadRun) => [
      `**${label}**`,
      '',
      '',
      `**${fixed(ours.qps / ref.qps)}x**`,
      `${fixed(ours.p50 / ref.p50)}x`,
      `${fixed(ours.p99 / ref.p99)}x`,
      '',
      '',
      ''
    ]
    const table = markdownTable({
      headers: [
        'server',
        'requests',
        'failed',
        'queries/s',
        'p50 ms',
        'p99 ms',
        'server CPU s',
        'client CPU s',
        'other cores'
      ],
      rows: [
        ...runs.map(row),
        ratio('local / plain server', localRun.result, echoRun.result),
        ratio('forwarded / proxied plain server', forwardedRun.result, proxyRun.result),
        ratio('forwarded / local', forwardedRun.result, localRun.result)
      ],
      align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left']
    })
    return {
      title: 'Interactive queries: point lookups, local and forwarded, vs a plain HTTP server',
      summary: [
        `Two word-count instances (\`streamlane run examples/word-count/app.ts\`, each its own process, bearer token on, ` +
          `record cache on) hold the counts of ${integer(WORDS)} words in 6 partitions. The load generator (this ` +
          `process, Node's fetch with keep-alive) runs ${CONCURRENCY} request loops for ${SECONDS} s (after a 1 s ` +
          'warm-up) against the first instance: keys it holds (answered from its store) and keys the other holds ' +
          '(forwarded: one more HTTP request between the instances). The references run under the same load: a plain ' +
          `Node HTTP server answering a fixed JSON body of the same size (${sample.length} bytes), and that server ` +
          'behind a one-hop fetch() proxy. Ratios are ours / reference: queries/s above 1 is faster, latency above 1 ' +
          'slower. Server CPU is the CPU of the serving processes during the measurement (both instances, or both ' +
          'reference servers).'
      ],
      tables: [{ heading: 'Point lookups', markdown: table }],
      notes: [
        'Everything runs on the same 2-core machine: the load generator competes with the servers for the cores, so ' +
          'absolute numbers are a floor; the ratios are what this measures.'
      ]
    }
  } finally {
    for (const child of processes) child.kill('SIGTERM')
    await Promise.all(processes.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)))
    removeStateDirs()
  }
}

export const queries: Benchmark = {
  name: 'queries',
  description: 'interactive query lookups per second, local and forwarded, vs a plain HTTP server',
  resultsFile: 'queries.md',
  run
}
