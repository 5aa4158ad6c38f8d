/**
 * Windowed and session queries end to end (issue 19): two instances of the page-views example (views per user per
 * one-minute window, and per session of views no more than a gap apart) over a real broker. The windows the query
 * endpoint returns for each user and time range (through the typed client, a page at a time, forward and backward,
 * and through the CLI) and the sessions it returns for each user are, once they have closed, the windows and sessions
 * the output topics have, with the same counts.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createProducer } from '../../../src/kafka/producer.ts'
import { QueryClient } from '../../../src/query/client/index.ts'
import { testBrokers } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { readTopic } from '../runtime/support.ts'
import { freshTopics, sessionsOf, startQueryGroup } from './query-group.ts'

// A window store keeps a window for its size plus grace behind stream time (as Kafka Streams): a 10-minute grace
// keeps the test's five minutes of windows queryable while they are all open. The example reads it at import.
process.env.PAGE_VIEWS_GRACE_MS ??= String(10 * 60_000)
// Sessions of views at most 20 s apart: the random views of each minute make a few sessions per user.
process.env.PAGE_VIEWS_SESSION_GAP_MS ??= '20000'
const { GRACE_MS, pageViews, SESSION_GAP_MS, sessionKey, topics, WINDOW_MS } = await import(
  '../../../examples/page-views/app.ts'
)

const PARTITIONS = 4
const USERS = Array.from({ length: 12 }, (_, i) => `u${i}`)
const MINUTES = 5
const TOKEN = 'page-views-token'
/** A whole minute, recent (the topics' retention would drop old timestamps), so windows start at T0 + n minutes. */
const T0 = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 30 * WINDOW_MS

test('the windows of page-views answered over HTTP are the windows of the output topic', async () => {
  const { appId, topics: names } = await freshTopics('pvq', ['views', 'perMinute', 'sessions'], PARTITIONS)
  Object.assign(topics, names)
  const group = await startQueryGroup({
    instances: 2,
    topology: pageViews,
    config: { applicationId: appId, metricsToken: TOKEN }
  })
  const { apps, hosts } = group
  try {
    // Every user views pages a random number of times in each of the first MINUTES minutes; then one view per user
    // far enough ahead that every task's stream time closes those windows (grace included).
    const records = []
    for (const user of USERS) {
      for (let minute = 0; minute < MINUTES; minute++) {
        const views = Math.floor(Math.random() * 4) // 0: no window for that minute
        for (let v = 0; v < views; v++) {
          const timestamp = T0 + minute * WINDOW_MS + Math.floor(Math.random() * WINDOW_MS)
          records.push({
            topic: topics.views,
            key: Buffer.from(`${user}-${minute}-${v}`),
            value: view(user),
            timestamp
          })
        }
      }
    }
    // The views reach the counting tasks through a repartition topic, written by several upstream tasks, and a task's
    // stream time is the newest view it has seen: a view from minute 4 overtaking one from minute 0 would close that
    // window early. So each minute's views go once the previous minute's are counted, and the closers last.
    const producer = createProducer({ brokers: testBrokers() })
    const processed = () => apps.reduce((sum, app) => sum + app.progress().processed, 0)
    let sent = 0
    for (let minute = 0; minute < MINUTES; minute++) {
      const batch = records.filter((r) => Math.floor((r.timestamp - T0) / WINDOW_MS) === minute)
      if (batch.length === 0) continue
      await producer.send(batch)
      sent += batch.length
      // Each view is processed twice: read from the input, then counted from the repartition topic.
      await waitFor(`minute ${minute}'s views counted`, () => processed() >= 2 * sent)
    }

    // Every user's views per window, from the input.
    const expected = new Map<string, Map<number, number>>(USERS.map((u) => [u, new Map()]))
    for (const r of records) {
      const user = r.key.toString().split('-')[0]!
      const start = Math.floor(r.timestamp / WINDOW_MS) * WINDOW_MS
      expected.get(user)!.set(start, (expected.get(user)!.get(start) ?? 0) + 1)
    }
    // The windows are queried while open (the store drops a window soon after it closes); they are final already.
    const client = new QueryClient({ url: `http://${hosts[0]}`, token: TOKEN })
    const to = T0 + (MINUTES - 1) * WINDOW_MS
    for (const user of USERS) {
      const want = [...expected.get(user)!].sort(([a], [b]) => a - b).map(([start, value]) => ({ start, value }))
      // Pages of 2 windows: the client follows `next` until the range is done.
      const windows = await client.windows<number>('views-per-minute', user, { from: T0, to, pageSize: 2 })
      assert.deepEqual(windows, want, `${user}'s windows`)
      const backward = await client.windows<number>('views-per-minute', user, { from: T0, to, backward: true })
      assert.deepEqual(backward, [...want].reverse(), `${user}'s windows, newest first`)
      // A narrower range: the middle minutes only.
      const middle = await client.windows<number>('views-per-minute', user, {
        from: T0 + WINDOW_MS,
        to: T0 + 3 * WINDOW_MS
      })
      assert.deepEqual(
        middle,
        want.filter((w) => w.start >= T0 + WINDOW_MS && w.start <= T0 + 3 * WINDOW_MS)
      )
    }

    // Every user's sessions, from the input: views sorted by time, a new session after a pause longer than the gap.
    const expectedSessions = new Map<string, { start: number; end: number; value: number }[]>()
    for (const user of USERS) {
      const times = records.filter((r) => r.key.toString().startsWith(`${user}-`)).map((r) => r.timestamp)
      expectedSessions.set(user, sessionsOf(times, SESSION_GAP_MS))
    }
    // The sessions are queried while open too, from the other instance (answered there or forwarded).
    const other = new QueryClient({ url: `http://${hosts[1]}`, token: TOKEN })
    for (const user of USERS) {
      // Pages of 2 sessions: the client follows `next`.
      const sessions = await other.sessions<number>('view-sessions', user, { pageSize: 2 })
      assert.deepEqual(
        [...sessions].sort((a, b) => a.start - b.start),
        expectedSessions.get(user),
        `${user}'s sessions`
      )
    }

    // One page over HTTP: `limit` windows and where the next page starts.
    const busy = USERS.find((u) => expected.get(u)!.size >= 3)!
    const starts = [...expected.get(busy)!.keys()].sort((a, b) => a - b)
    const response = await fetch(
      `http://${hosts[1]}/stores/views-per-minute/windows/${busy}?from=${T0}&to=${to}&limit=2`,
      { headers: { authorization: `Bearer ${TOKEN}` } }
    )
    assert.equal(response.status, 200)
    const page = (await response.json()) as { windows: { start: number }[]; next: number | null }
    assert.deepEqual(
      page.windows.map((w) => w.start),
      starts.slice(0, 2)
    )
    assert.equal(page.next, starts[2])

    // The CLI, against the other instance.
    const cli = fileURLToPath(new URL('../../../bin/streamlane.js', import.meta.url))
    const module = fileURLToPath(new URL('../../../examples/page-views/app.ts', import.meta.url))
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, 'query', module, '--store', 'views-per-minute', '--key', busy, '--windows', '--from', String(T0)].concat([
        '--to',
        String(to),
        '--url',
        `http://${hosts[1]}`
      ]),
      { env: { ...process.env, KAFKA_BROKERS: testBrokers().join(','), STREAMLANE_METRICS_TOKEN: TOKEN } }
    )
    assert.deepEqual(
      JSON.parse(stdout),
      starts.map((start) => ({ start, value: expected.get(busy)!.get(start) }))
    )

    // Closing the windows writes their final counts: the same windows and counts as the queries answered.
    const closing = T0 + (MINUTES + 1) * WINDOW_MS + GRACE_MS
    const closers = USERS.map((user) => ({
      topic: topics.views,
      key: Buffer.from(`${user}-close`),
      value: view(user),
      timestamp: closing
    }))
    await producer.send(closers)
    await producer.close()

    const windowCount = [...expected.values()].reduce((sum, m) => sum + m.size, 0)
    const output = new Map<string, Map<number, number>>(USERS.map((u) => [u, new Map()]))
    await readTopic(topics.perMinute, PARTITIONS, (read) => {
      for (const r of read.splice(0)) {
        const [user, start] = r.key!.toString().split('@')
        output.get(user!)!.set(Number(start), Number(r.value!.readBigInt64BE()))
      }
      return [...output.values()].reduce((sum, m) => sum + m.size, 0) >= windowCount
    })
    assert.deepEqual(output, expected, 'the output topic has every closed window with its count')

    // And every closed session with its count: the sessions the queries answered.
    const sessionCount = [...expectedSessions.values()].reduce((sum, s) => sum + s.length, 0)
    const writtenSessions = new Map<string, number>()
    await readTopic(topics.sessions, PARTITIONS, (read) => {
      for (const r of read.splice(0)) writtenSessions.set(r.key!.toString(), Number(r.value!.readBigInt64BE()))
      return writtenSessions.size >= sessionCount
    })
    const wantSessions = new Map(
      [...expectedSessions].flatMap(([user, sessions]) =>
        sessions.map((s) => [sessionKey(user, s.start, s.end), s.value] as const)
      )
    )
    assert.deepEqual(writtenSessions, wantSessions, 'the sessions topic has every closed session with its count')
  } finally {
    await group.close()
  }
})

function view(user: string): Buffer {
  return Buffer.from(JSON.stringify({ user, page: '/home' }))
}
