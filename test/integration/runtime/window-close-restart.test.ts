/**
 * Emit-on-window-close across a restart on the real broker: the last close time emitted is committed with the
 * task's offsets (Kafka Streams' processor metadata), so an instance that takes the task over with a fresh state
 * directory (its store rebuilt from the changelog, closed windows included) emits only windows that close after it
 * took over, never the ones the first instance emitted. Without that metadata every retained closed window came out
 * again at the first emission after the restart.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { EmitStrategy, Materialized, Serdes, StreamsBuilder, TimeWindows } from '../../../src/index.ts'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, readTopic, topicEnd } from './support.ts'

const MINUTE = 60_000
const GRACE_MS = 10_000

function closingCounts(input: string, output: string) {
  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeAndGrace(MINUTE, GRACE_MS))
    .emitStrategy(EmitStrategy.onWindowClose())
    // Closed windows stay in the store (and its changelog) for an hour: a new owner could emit them again.
    .count(Materialized.as('closing-counts', { retentionMs: 60 * MINUTE }))
    .toStream()
    .map((windowed, count) => [`${windowed.key}@${windowed.window.start}` as string, count] as const)
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.long() })
  return builder.build()
}

test('a task taken over with a fresh state directory does not emit the windows its last owner closed again', async () => {
  const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE
  const at = (minute: number) => t0 + minute * MINUTE
  const input = uniqueName('closing-in')
  const output = uniqueName('closing-out')
  await createTopics([
    { name: input, partitions: 1 },
    { name: output, partitions: 1 }
  ])
  const applicationId = uniqueName('closing-counts')
  const producer = createProducer({ brokers: testBrokers() })
  const admin = createAdmin({ brokers: testBrokers() })
  const send = (key: string, timestamp: number) =>
    producer.send([{ topic: input, key: Buffer.from(key), value: Buffer.from('x'), timestamp }])
  const stateDirs: string[] = []
  const startApp = async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'streamlane-closing-'))
    stateDirs.push(stateDir)
    const app = new StreamlaneApp(closingCounts(input, output), {
      applicationId,
      bootstrapServers: testBrokers(),
      commitIntervalMs: 200,
      stateDir
    })
    await app.start()
    return app
  }
  // Closed windows are looked for at most once a second (wall clock) after a record: ticks at the current stream
  // time, in a window of their own, prompt it until the expected windows are out.
  const tickUntil = (what: string, timestamp: number, done: () => Promise<boolean>) =>
    waitFor(
      what,
      async () => {
        if (await done()) return true
        await send('tick', timestamp)
        return false
      },
      { intervalMs: 300 }
    )

  try {
    for (let minute = 0; minute < 5; minute++) await send('k', at(minute) + 1_000)
    await send('closer', at(6)) // stream time past the end + grace of minutes 0-4
    const first = await startApp()
    try {
      await tickUntil('minutes 0-4 emitted', at(6), async () => (await topicEnd(admin, output)) >= 5)
    } finally {
      await first.close()
    }

    const second = await startApp()
    try {
      await send('closer', at(8)) // closes minute 6 (the first closer's and the ticks' windows)
      await tickUntil('minute 6 emitted', at(8), async () => (await topicEnd(admin, output)) >= 7)
    } finally {
      await second.close()
    }

    const written = await topicEnd(admin, output) // both instances closed: nothing more comes
    const records = await readTopic(output, 1, (r) => r.length >= written)
    const emitted = records.map((r) => `${r.key!.toString()}=${r.value!.readBigInt64BE(0)}`)
    const expected = [0, 1, 2, 3, 4].map((m) => `k@${at(m)}=1`)
    expected.push(`closer@${at(6)}=1`)
    assert.deepEqual(emitted.slice(0, 5), expected.slice(0, 5), 'the first instance emitted minutes 0-4 once')
    assert.ok(emitted.includes(expected[5]!), `minute 6 emitted: ${emitted.join(', ')}`)
    const windows = records.map((r) => r.key!.toString())
    assert.equal(new Set(windows).size, windows.length, `no window emitted twice: ${windows.join(', ')}`)
  } finally {
    await producer.close()
    await admin.close()
    for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true })
  }
})
