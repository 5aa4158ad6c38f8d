/**
 * A share-group app scaled 1 -> 4 -> 1 under load on a 2-partition topic: the four instances (twice the partition
 * count) all work at once; the three removed while they hold records in flight finish and accept them (no replay), or,
 * past a short shutdown timeout, release them to the survivor (processed there, never lost). Records take
 * longer than the acquisition lock, so they go through only because the app renews their locks (KIP-1222). The probes
 * and share metrics of an instance are read on the way.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  type Processor,
  type ProcessorContext,
  resolveConfig,
  Serdes,
  ShareGroupApp,
  Topology
} from '../../../src/index.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, produceNumbered, readTopic } from './support.ts'

const LOCK_MS = 2_000
const WORK_MS = 2_500
const PARTITIONS = 2

const apps = new Set<ShareGroupApp>()
after(async () => {
  for (const app of apps) await app.close()
})

/** Echoes each value after `WORK_MS` of asynchronous work: longer than the lock. */
function slowEcho(): Processor<string, string, string, string> {
  let context: ProcessorContext<string, string>
  return {
    init(c) {
      context = c
    },
    async process(record) {
      await sleep(WORK_MS)
      await context.forward(record)
    }
  }
}

function topology(input: string, output: string): Topology {
  const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() }
  return new Topology()
    .addSource('in', input, strings)
    .addProcessor('echo', slowEcho, 'in')
    .addSink('out', output, strings, 'echo')
}

async function instance(
  applicationId: string,
  t: Topology,
  extra: { shutdownTimeoutMs?: number; metricsPort?: number } = {}
): Promise<ShareGroupApp> {
  const config = resolveConfig({
    applicationId,
    bootstrapServers: testBrokers(),
    shutdownTimeoutMs: extra.shutdownTimeoutMs ?? 15_000,
    ...(extra.metricsPort !== undefined ? { metricsPort: extra.metricsPort } : {}),
    shareGroup: { concurrency: 2, autoOffsetReset: 'earliest', recordLockDurationMs: LOCK_MS }
  })
  const app = new ShareGroupApp(t, config)
  apps.add(app)
  await app.start()
  return app
}

async function close(app: ShareGroupApp): Promise<void> {
  await app.close()
  apps.delete(app)
}

async function setup(records: number) {
  const input = uniqueName('share-scale-in')
  const output = uniqueName('share-scale-out')
  await createTopics([
    { name: input, partitions: PARTITIONS },
    { name: output, partitions: 1 }
  ])
  await produceNumbered(input, records)
  return { input, output, applicationId: uniqueName('share-scale') }
}

const sum = (apps: ShareGroupApp[], pick: (a: ShareGroupApp) => number) => apps.reduce((n, a) => n + pick(a), 0)

test('1 -> 4 -> 1 instances on 2 partitions: every record once, the removed ones finish what they hold', async () => {
  const count = 32
  const { input, output, applicationId } = await setup(count)
  const t = topology(input, output)
  const first = await instance(applicationId, t, { metricsPort: 0 })
  const url = `http://127.0.0.1:${first.httpPort()}`
  await waitFor('the first instance ready', async () => (await fetch(`${url}/ready`)).status === 200)
  await waitFor('the first instance working', () => first.inFlight > 0)

  const added = [await instance(applicationId, t), await instance(applicationId, t), await instance(applicationId, t)]
  const all = [first, ...added]
  await waitFor('all four instances (2 partitions) processing at once', () => all.every((a) => a.inFlight > 0), {
    timeoutMs: 30_000
  })
  assert.ok(
    all.every((a) => a.assignment().length > 0),
    'each instance is assigned partitions it shares'
  )
  const heldAtScaleIn = added.map((a) => a.inFlight)
  assert.ok(
    heldAtScaleIn.every((n) => n > 0),
    `the removed instances hold records: ${heldAtScaleIn}`
  )
  await Promise.all(added.map(close))

  const written = await readTopic(output, 1, (records) => records.length >= count, 90_000)
  await waitFor('all accepted', () => sum(all, (a) => a.counters.accepted) === count, { timeoutMs: 30_000 })
  const values = written.map((r) => Number(r.value!.toString())).sort((a, b) => a - b)
  assert.deepEqual(
    values,
    Array.from({ length: count }, (_, i) => i),
    'each record written exactly once'
  )
  assert.deepEqual(
    {
      redelivered: sum(all, (a) => a.counters.redelivered),
      released: sum(all, (a) => a.counters.released),
      renewFailed: sum(all, (a) => a.counters.renewFailed)
    },
    { redelivered: 0, released: 0, renewFailed: 0 }
  )
  assert.ok(first.counters.renewed > 0, 'records longer than the lock had their locks renewed')
  assert.ok(
    added.every((a) => a.counters.accepted >= 2),
    `the removed instances accepted what they held: ${added.map((a) => a.counters.accepted)}`
  )

  const metrics = await (await fetch(`${url}/metrics`)).text()
  assert.match(
    metrics,
    new RegExp(`streamlane_share_records_acknowledged_total\\{type="accept"\\} ${first.counters.accepted}\\b`)
  )
  assert.match(metrics, /streamlane_share_concurrency 2\b/)
  assert.equal((await fetch(`${url}/healthz`)).status, 200)
  await first.close()
  apps.delete(first)
  await assert.rejects(fetch(`${url}/healthz`), 'the endpoint is closed with the app')
})

test('records still running at the shutdown timeout are released to the survivor, which processes them: none lost', async () => {
  const count = 12
  const { input, output, applicationId } = await setup(count)
  const t = topology(input, output)
  const survivor = await instance(applicationId, t)
  const leaving = await instance(applicationId, t, { shutdownTimeoutMs: 200 })
  await waitFor('both instances processing', () => survivor.inFlight > 0 && leaving.inFlight > 0, { timeoutMs: 30_000 })
  const held = leaving.inFlight
  await close(leaving)

  const written = await readTopic(
    output,
    1,
    (records) => new Set(records.map((r) => r.value!.toString())).size >= count,
    90_000
  )
  await waitFor('all accepted', () => survivor.counters.accepted + leaving.counters.accepted >= count, {
    timeoutMs: 30_000
  })
  const distinct = new Set(written.map((r) => Number(r.value!.toString())))
  assert.equal(distinct.size, count, 'no record lost')
  // What the leaving instance held at its timeout was released, not accepted: the survivor processed and accepted it.
  // Only those records can have been written twice (if one finished between the release and the producer's close).
  assert.equal(survivor.counters.accepted + leaving.counters.accepted, count, 'each record accepted once')
  assert.ok(written.length - count <= held, `duplicates ${written.length - count}, held at the timeout ${held}`)
})
