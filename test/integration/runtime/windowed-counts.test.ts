/**
 * Windowed counts with emit-final on the real broker (the page-views example): every window's count is written
 * once, equal to the count computed directly from the input, for in-order and out-of-order records within grace;
 * a record later than grace is excluded and counted. One input partition keeps stream time, and so lateness, exact.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GRACE_MS, outputKey, pageViews, topics, WINDOW_MS } from '../../../examples/page-views/app.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, readTopic } from './support.ts'

interface View {
  user: string
  timestamp: number
}

test('emit-final windowed counts equal the input, in and out of order within grace; late records are dropped and counted', async () => {
  const t0 = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 30 * WINDOW_MS
  const start = (minute: number) => t0 + minute * WINDOW_MS
  const users = ['ada', 'bob', 'cy', 'dee']
  const views: View[] = []
  const accepted: View[] = []
  const add = (view: View, counted = true) => {
    views.push(view)
    if (counted) accepted.push(view)
  }
  for (let minute = 0; minute < 5; minute++) {
    users.forEach((user, u) => {
      for (let i = 0; i < ((u + minute) % 3) + 1; i++)
        add({ user, timestamp: start(minute) + 1_000 * (i + 1) + u * 100 })
    })
    // Out of order but within grace: the previous minute's window is past its end, not past end + grace.
    if (minute > 0) add({ user: 'ada', timestamp: start(minute) - 500 })
    // Later than grace: stream time is ~2 minutes past this window's end + grace.
    if (minute === 3) add({ user: 'bob', timestamp: start(1) + 5_000 }, false)
  }
  assert.ok(start(3) > start(2) + GRACE_MS, 'the late record is later than grace')
  // Moves stream time past every window's end + grace, so all of them close; its own window stays open.
  add({ user: 'closer', timestamp: start(10) }, false)

  const expected = new Map<string, bigint>()
  for (const { user, timestamp } of accepted) {
    const key = outputKey(user, Math.floor(timestamp / WINDOW_MS) * WINDOW_MS)
    expected.set(key, (expected.get(key) ?? 0n) + 1n)
  }

  const input = uniqueName('views')
  const output = uniqueName('views-per-minute')
  topics.views = input
  topics.perMinute = output
  topics.sessions = uniqueName('view-sessions') // the example's other output
  await createTopics([
    { name: input, partitions: 1 },
    { name: output, partitions: 1 },
    { name: topics.sessions, partitions: 1 }
  ])
  const producer = createProducer({ brokers: testBrokers() })
  await producer.send(
    views.map((view) => ({
      topic: input,
      key: Buffer.from(view.user),
      value: Buffer.from(JSON.stringify({ user: view.user, page: '/' })),
      timestamp: view.timestamp
    }))
  )
  await producer.close()

  const app = new StreamlaneApp(pageViews(), {
    applicationId: uniqueName('page-views'),
    bootstrapServers: testBrokers(),
    commitIntervalMs: 200
  })
  await app.start()
  try {
    const records = await readTopic(output, 1, (r) => r.length >= expected.size)
    const counts = new Map(records.map((r) => [r.key!.toString(), r.value!.readBigInt64BE(0)]))
    assert.equal(records.length, expected.size, 'each window is emitted exactly once')
    assert.deepEqual(counts, expected)
    await waitFor('the late record counted', () => app.droppedRecords().late === 1)
  } finally {
    await app.close()
  }
})
