/**
 * Slow, I/O-bound processing (issue 16): one instance runs its tasks' asynchronous records concurrently, one record
 * at a time per task, so partitions keep their order and an instance owning 12 partitions waits on 12 calls at once;
 * the scaler is told what is in flight; and a SIGKILL in the middle of it loses nothing (at-least-once) or
 * duplicates nothing (exactly-once).
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { type ProcessorContext, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { AppInstance, killAll } from './instances.ts'
import { committedInput, createTopics, produceNumbered, readTopic, topicEnd } from './support.ts'

const PARTITIONS = 12

/** Collects the self-reports an instance posts to its scaler. */
async function fakeScaler(): Promise<{ url: string; reports: Record<string, unknown>[]; close: () => void }> {
  const reports: Record<string, unknown>[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    request.on('end', () => {
      if (request.url === '/reports') reports.push(JSON.parse(body) as Record<string, unknown>)
      response.writeHead(204).end()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, reports, close: () => server.close() }
}

test('one instance runs 12 partitions of 200 ms async records concurrently, in order per partition', async () => {
  const RECORDS = 240
  const input = uniqueName('conc-in')
  const output = uniqueName('conc-out')
  await createTopics([
    { name: input, partitions: PARTITIONS },
    { name: output, partitions: PARTITIONS }
  ])
  await produceNumbered(input, RECORDS)

  // What the processor sees: records in flight (in all, and per partition) and the offsets each partition started.
  let active = 0
  let maxActive = 0
  let overlaps = 0
  const activePartitions = new Set<number>()
  let maxPartitionsAtOnce = 0
  const startedOffsets = new Map<number, number[]>()
  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .process<string, string>(() => {
      let context: ProcessorContext<string, string>
      return {
        init(ctx) {
          context = ctx
        },
        async process(record) {
          const { partition, offset } = context.recordMetadata()!
          if (activePartitions.has(partition)) overlaps++
          activePartitions.add(partition)
          maxPartitionsAtOnce = Math.max(maxPartitionsAtOnce, activePartitions.size)
          maxActive = Math.max(maxActive, ++active)
          startedOffsets.set(partition, [...(startedOffsets.get(partition) ?? []), offset])
          await delay(200)
          active--
          activePartitions.delete(partition)
          await context.forward(record)
        }
      }
    })
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.string() })

  const scaler = await fakeScaler()
  const app = new StreamlaneApp(builder.build(), {
    applicationId: uniqueName('conc-app'),
    bootstrapServers: testBrokers(),
    commitIntervalMs: 500,
    scalerUrl: scaler.url,
    scalerReportIntervalMs: 200
  })
  await app.start()
  try {
    const records = await readTopic(output, PARTITIONS, (r) => r.length >= RECORDS)
    await waitFor('offsets of every record committed', () => app.progress().committed === RECORDS)
    assert.equal(new Set(records.map((r) => r.key!.toString())).size, RECORDS, 'every record processed')
    assert.equal(records.length, RECORDS, 'no record processed twice')
    // 12 tasks, one record in flight each: 12 at once, never two of one partition.
    assert.equal(maxActive, PARTITIONS, 'records in flight at once')
    assert.equal(maxPartitionsAtOnce, PARTITIONS, 'partitions in flight at once')
    assert.equal(overlaps, 0, 'a partition never had two records in flight')
    assert.equal(startedOffsets.size, PARTITIONS)
    for (const [partition, offsets] of startedOffsets) {
      assert.deepEqual(
        offsets,
        [...offsets].sort((a, b) => a - b),
        `partition ${partition} processed in offset order`
      )
      assert.equal(new Set(offsets).size, offsets.length, `partition ${partition} processed each offset once`)
    }
    // The scaler saw the records in flight (what bounds a cold group's rate before the first one finishes).
    await waitFor('a report with records in flight', () => scaler.reports.some((r) => r.inFlightRecords !== undefined))
    const reportedInFlight = Math.max(...scaler.reports.map((r) => Number(r.inFlightRecords ?? 0)))
    assert.ok(reportedInFlight > 1 && reportedInFlight <= PARTITIONS, `in flight reported: ${reportedInFlight}`)
    assert.ok(scaler.reports.some((r) => typeof r.oldestInFlightMs === 'number'))
    console.log(
      `12 partitions x 200 ms: max in flight ${maxActive}, reported in flight up to ${reportedInFlight}, ${RECORDS} records`
    )
  } finally {
    await app.close()
    scaler.close()
  }
})

const slowApp = fileURLToPath(new URL('./fixtures/slow-app.ts', import.meta.url))

for (const guarantee of ['at_least_once', 'exactly_once_v2'] as const) {
  test(`${guarantee}: a SIGKILL while 12 async records are in flight ${guarantee === 'at_least_once' ? 'loses nothing' : 'duplicates nothing'}`, async () => {
    const RECORDS = 360
    const input = uniqueName('conc-kill-in')
    const output = uniqueName('conc-kill-out')
    const appId = uniqueName('conc-kill-app')
    await createTopics([
      { name: input, partitions: PARTITIONS },
      { name: output, partitions: PARTITIONS }
    ])
    await produceNumbered(input, RECORDS)
    const admin = createAdmin({ brokers: testBrokers() })
    const env = {
      STREAMLANE_APPLICATION_ID: appId,
      INPUT_TOPIC: input,
      OUTPUT_TOPIC: output,
      PER_RECORD_MS: '200',
      STREAMLANE_PROCESSING_GUARANTEE: guarantee,
      // Static: the restarted instance takes the killed one's place (and, under exactly-once, fences its producer).
      STREAMLANE_GROUP_INSTANCE_ID: 'conc-kill-0',
      STREAMLANE_SESSION_TIMEOUT_MS: '10000',
      STREAMLANE_HEARTBEAT_INTERVAL_MS: '1000'
    }
    const instances: AppInstance[] = []
    try {
      const first = new AppInstance('conc-kill-1', slowApp, env)
      instances.push(first)
      await waitFor('a third of the records written', async () => (await topicEnd(admin, output)) >= RECORDS / 3, {
        timeoutMs: 60_000
      })
      first.signal('SIGKILL')
      await first.exited
      const second = new AppInstance('conc-kill-2', slowApp, env)
      instances.push(second)
      const records = await readTopic(
        output,
        PARTITIONS,
        (r) => new Set(r.map((x) => x.key!.toString())).size >= RECORDS,
        120_000
      )
      await waitFor(
        'every input offset committed',
        async () => (await committedInput(admin, appId, input)) === RECORDS,
        {
          timeoutMs: 60_000
        }
      )
      second.signal('SIGTERM')
      assert.equal(await second.exited, 0, second.log.slice(-2000))
      const keys = new Set(records.map((r) => r.key!.toString()))
      assert.equal(keys.size, RECORDS, 'nothing lost')
      // At-least-once: every output written, replays included (under exactly-once the end counts aborted ones too).
      const written = await topicEnd(admin, output)
      if (guarantee === 'exactly_once_v2') {
        const committed = await readTopic(output, PARTITIONS, (r) => r.length >= RECORDS)
        assert.equal(committed.length, RECORDS, 'no committed duplicate')
      }
      console.log(
        `${guarantee}: SIGKILL mid-flight, ${RECORDS} records, ${written} output offsets written (aborted included), ${records.length} read`
      )
    } finally {
      await killAll(instances)
      await admin.close()
    }
  })
}
