/**
 * An output topic that does not exist. A sink with a fixed topic is checked at start: start() fails with one error
 * naming the sink, the topic and the tasks, before anything is read. A topic chosen per record (topic extractor)
 * can only fail when written: the app stops with a ProductionError naming the sink, the task, the topic and the
 * input record, goes ERROR, closes cleanly to NOT_RUNNING (tasks before the state directory), and never commits an
 * input offset past the record whose output was not written. With and without state, at-least-once and
 * exactly-once; `streamlane run` exits 1 with that error as its last line.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  type AppState,
  MissingSinkTopicError,
  ProductionError,
  Serdes,
  StreamsBuilder,
  type Topology
} from '../../../src/index.ts'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { UnknownTopicError } from '../../../src/kafka/errors.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { AppInstance, killAll } from './instances.ts'
import { createTopics } from './support.ts'

const PARTITIONS = 2
type Guarantee = 'at_least_once' | 'exactly_once_v2'

/** `stream(input).mapValues(...)`, optionally through a count, `.to(topic)`: a fixed topic or an extractor. */
function topology(input: string, to: string | ((key: string) => string), stateful: boolean): Topology {
  const builder = new StreamsBuilder()
  const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() }
  const stream = builder.stream(input, strings).mapValues((value) => `${value}!`)
  const out = stateful
    ? stream
        .groupByKey()
        .count()
        .toStream()
        .mapValues((count) => String(count))
    : stream
  if (typeof to === 'string') out.to(to, strings)
  else out.to((key) => to(key), strings)
  return builder.build()
}

/** Produces one record per key (value = key) and returns where each one landed. */
async function produceKeys(topic: string, keys: string[]): Promise<{ partition: number; offset: bigint }[]> {
  const producer = createProducer({ brokers: testBrokers() })
  try {
    const written = await producer.send(keys.map((key) => ({ topic, key: Buffer.from(key), value: Buffer.from(key) })))
    return written.map(({ partition, offset }) => ({ partition, offset }))
  } finally {
    await producer.close()
  }
}

/** The group's committed offset per input partition (-1 when none). */
async function committedOffsets(admin: KafkaAdmin, group: string, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchGroupOffsets(group, [topic])
  return new Map(offsets.map((o) => [o.partition, o.offset]))
}

function recordStates(app: StreamlaneApp): AppState[] {
  const states: AppState[] = []
  app.onStateChange((next) => states.push(next))
  return states
}

for (const { stateful, guarantee } of [
  { stateful: false, guarantee: 'at_least_once' as Guarantee },
  { stateful: true, guarantee: 'exactly_once_v2' as Guarantee }
]) {
  test(`a fixed sink topic that does not exist fails start() naming sink, topic and tasks (${stateful ? 'stateful' : 'stateless'}, ${guarantee})`, async () => {
    const input = uniqueName('missing-out-in')
    const missing = uniqueName('missing-out-topic')
    const appId = uniqueName('missing-out-start')
    const stateDir = mkdtempSync(join(tmpdir(), 'streamlane-missing-out-'))
    await createTopics([{ name: input, partitions: PARTITIONS }])
    await produceKeys(input, ['a', 'b', 'c'])
    const admin = createAdmin({ brokers: testBrokers() })
    const app = new StreamlaneApp(topology(input, missing, stateful), {
      applicationId: appId,
      bootstrapServers: testBrokers(),
      processingGuarantee: guarantee,
      stateDir
    })
    const states = recordStates(app)
    try {
      const error = await app.start().then(
        () => assert.fail('start() should have failed'),
        (e: unknown) => e
      )
      assert.ok(error instanceof MissingSinkTopicError, String(error))
      assert.equal(error.code, 'STREAMLANE_SINK_TOPIC_MISSING')
      assert.deepEqual(error.topics, [missing])
      assert.match(
        error.message,
        new RegExp(
          `^sink KSTREAM-SINK-\\d+ of sub-topology 0 \\(tasks 0_0 to 0_1\\) writes to topic ${missing}, which does ` +
            'not exist; create the topic before starting the application, or check the topic name given to to\\(\\) or addSink\\(\\)$'
        )
      )
      assert.equal(app.state, 'ERROR')
      assert.equal(app.error, error)
      await app.close()
      assert.equal(app.state, 'NOT_RUNNING')
      assert.deepEqual(states, ['REBALANCING', 'ERROR', 'PENDING_SHUTDOWN', 'NOT_RUNNING'])
      // Nothing was read, nothing committed, and the topic was not created behind the user's back.
      assert.ok([...(await committedOffsets(admin, appId, input)).values()].every((offset) => offset < 0n))
      assert.ok(!(await admin.listTopics()).includes(missing))
    } finally {
      await app.close()
      await admin.close()
      rmSync(stateDir, { recursive: true, force: true })
    }
  })
}

for (const stateful of [false, true]) {
  for (const guarantee of ['at_least_once', 'exactly_once_v2'] as const) {
    test(`a record routed to a missing topic stops the app with a clear error, closes cleanly and commits nothing past it (${stateful ? 'stateful' : 'stateless'}, ${guarantee})`, async () => {
      const input = uniqueName('missing-route-in')
      const output = uniqueName('missing-route-out')
      const missing = uniqueName('missing-route-topic')
      const appId = uniqueName('missing-route-app')
      const stateDir = mkdtempSync(join(tmpdir(), 'streamlane-missing-route-'))
      await createTopics([
        { name: input, partitions: PARTITIONS },
        { name: output, partitions: PARTITIONS }
      ])
      const admin = createAdmin({ brokers: testBrokers() })
      const app = new StreamlaneApp(
        topology(input, (key) => (key === 'bad' ? missing : output), stateful),
        {
          applicationId: appId,
          bootstrapServers: testBrokers(),
          processingGuarantee: guarantee,
          commitIntervalMs: 100,
          stateDir
        }
      )
      const states = recordStates(app)
      const failed = new Promise<Error>((resolve) => app.onError(resolve))
      try {
        // A first batch that is written and committed, so "nothing committed past the bad record" means something.
        const first = await produceKeys(
          input,
          Array.from({ length: 100 }, (_, i) => `good-${i}`)
        )
        const firstEnd = new Map<number, bigint>()
        for (const { partition, offset } of first) {
          if (offset + 1n > (firstEnd.get(partition) ?? 0n)) firstEnd.set(partition, offset + 1n)
        }
        await app.start()
        await waitFor('the first batch committed', () => app.progress().committed === 100)
        const second = await produceKeys(input, [
          ...Array.from({ length: 50 }, (_, i) => `more-${i}`),
          'bad',
          ...Array.from({ length: 50 }, (_, i) => `after-${i}`)
        ])
        const bad = second[50]!

        const error = await failed
        assert.ok(error instanceof ProductionError, String(error))
        assert.equal(error.code, 'STREAMLANE_PRODUCTION_FAILED')
        assert.equal(error.topic, missing)
        assert.equal(String(error.taskId), `0_${bad.partition}`)
        assert.ok(error.cause instanceof UnknownTopicError)
        // Processed records name the input record; a count leaves its store cache at commit, where no input is known.
        const where = stateful
          ? 'on a record its store cache forwarded at commit'
          : `on the record at topic ${input} partition ${bad.partition} offset ${bad.offset}`
        assert.match(
          error.message,
          new RegExp(
            `^sink KSTREAM-SINK-\\d+ of task 0_${bad.partition} could not produce to topic ${missing} ${where}: ` +
              `topic ${missing} does not exist; create the topic, or check the topic name the sink writes to, then ` +
              'restart the application'
          )
        )
        assert.doesNotMatch(error.message, /punctuator/)
        assert.equal(app.state, 'ERROR')
        assert.equal(app.error, error)

        await app.close()
        assert.equal(app.state, 'NOT_RUNNING')
        assert.deepEqual(states.slice(-3), ['ERROR', 'PENDING_SHUTDOWN', 'NOT_RUNNING'])

        const committed = await committedOffsets(admin, appId, input)
        for (const [partition, end] of firstEnd) {
          assert.ok((committed.get(partition) ?? -1n) >= end, `partition ${partition}: first batch committed`)
        }
        const badCommitted = committed.get(bad.partition) ?? -1n
        assert.ok(
          badCommitted <= bad.offset,
          `partition ${bad.partition}: committed ${badCommitted}, past the unwritten record at ${bad.offset}`
        )
        assert.ok(!(await admin.listTopics()).includes(missing))
      } finally {
        await app.close()
        await admin.close()
        rmSync(stateDir, { recursive: true, force: true })
      }
    })
  }
}

test('streamlane run exits 1 with the error as its last line: missing fixed topic at start, routed record later', async () => {
  const module = fileURLToPath(new URL('./fixtures/missing-topic-app.ts', import.meta.url))
  const mapFilter = fileURLToPath(new URL('./fixtures/map-filter-app.ts', import.meta.url))
  const input = uniqueName('missing-cli-in')
  const output = uniqueName('missing-cli-out')
  const missing = uniqueName('missing-cli-topic')
  const stateDir = mkdtempSync(join(tmpdir(), 'streamlane-missing-cli-'))
  await createTopics([
    { name: input, partitions: PARTITIONS },
    { name: output, partitions: PARTITIONS }
  ])
  await produceKeys(input, ['1', '2', 'bad', '3'])
  const lastLine = (log: string) => log.trimEnd().split('\n').at(-1) ?? ''
  const instances: AppInstance[] = []
  try {
    const atStart = new AppInstance('missing-cli-start', mapFilter, {
      STREAMLANE_APPLICATION_ID: uniqueName('missing-cli-start'),
      INPUT_TOPIC: input,
      OUTPUT_TOPIC: missing
    })
    instances.push(atStart)
    assert.equal(await atStart.exited, 1, atStart.log)
    assert.match(
      lastLine(atStart.log),
      new RegExp(
        `^streamlane: sink \\S+ of sub-topology 0 \\(tasks 0_0 to 0_1\\) writes to topic ${missing}, which does not exist; .*\\[STREAMLANE_SINK_TOPIC_MISSING\\]$`
      )
    )

    const routed = new AppInstance('missing-cli-routed', module, {
      STREAMLANE_APPLICATION_ID: uniqueName('missing-cli-routed'),
      STREAMLANE_STATE_DIR: stateDir,
      INPUT_TOPIC: input,
      OUTPUT_TOPIC: output,
      MISSING_TOPIC: missing,
      MISSING_KEY: 'bad'
    })
    instances.push(routed)
    assert.equal(await routed.exited, 1, routed.log)
    assert.match(
      lastLine(routed.log),
      new RegExp(
        `^streamlane: sink \\S+ of task 0_\\d could not produce to topic ${missing} on a record its store cache forwarded at commit: topic ${missing} does not exist; .*\\[STREAMLANE_PRODUCTION_FAILED\\]$`
      )
    )
    // One error, reported once: no second failure while closing, no stack trace of an unhandled rejection.
    assert.doesNotMatch(routed.log, /StateLifecycleError|punctuator|onRevoke failed|error during shutdown|Unhandled/)
    assert.equal(routed.log.split('\n').filter((line) => line.includes('"level":50')).length, 1, routed.log)
  } finally {
    await killAll(instances)
    rmSync(stateDir, { recursive: true, force: true })
  }
})
