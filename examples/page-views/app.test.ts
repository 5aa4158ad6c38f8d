import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes } from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'
import { GRACE_MS, outputKey, PageView, pageViews, SESSION_GAP_MS, sessionKey, topics, WINDOW_MS } from './app.ts'

const MINUTE = WINDOW_MS

function driver() {
  const d = new TopologyTestDriver(pageViews(), { applicationId: 'page-views-test' })
  const views = d.createInputTopic(topics.views, Serdes.string(), Serdes.jsonSchema(PageView))
  const perMinute = d.createOutputTopic(topics.perMinute, Serdes.string(), Serdes.long())
  const view = (user: string, atMs: number) => views.pipeInput(`v-${user}-${atMs}`, { user, page: '/home' }, atMs)
  return { d, view, perMinute }
}

/** What the output must be: views counted per user and minute directly from the input. */
function expectedCounts(input: readonly (readonly [string, number])[]): Map<string, bigint> {
  const counts = new Map<string, bigint>()
  for (const [user, at] of input) {
    const key = outputKey(user, Math.floor(at / MINUTE) * MINUTE)
    counts.set(key, (counts.get(key) ?? 0n) + 1n)
  }
  return counts
}

test('in order: each closed window is written once, with the count of its views', async () => {
  const { d, view, perMinute } = driver()
  try {
    const input = [
      ['ann', 1_000],
      ['bob', 2_000],
      ['ann', 30_000],
      ['ann', 59_999],
      ['bob', 60_000],
      ['ann', 61_000]
    ] as const
    for (const [user, at] of input) await view(user, at)
    assert.equal(perMinute.isEmpty(), true, 'minute 0 is still open: its grace period has not passed')

    await view('cy', MINUTE + GRACE_MS) // stream time reaches the end of minute 0 plus grace
    assert.deepEqual(perMinute.readKeyValuesToList(), [
      { key: 'ann@0', value: 3n },
      { key: 'bob@0', value: 1n }
    ])

    await view('cy', 2 * MINUTE + GRACE_MS)
    const minuteOne = perMinute.readKeyValuesToMap()
    assert.deepEqual(
      minuteOne,
      new Map([
        ['ann@60000', 1n],
        ['bob@60000', 1n],
        ['cy@60000', 1n]
      ])
    )
    const all = expectedCounts([...input, ['cy', MINUTE + GRACE_MS]])
    for (const [key, count] of minuteOne) assert.equal(count, all.get(key))
    assert.equal(d.droppedRecords('late'), 0)
  } finally {
    await d.close()
  }
})

test('out of order within the grace period: late views still count, and windows are written once', async () => {
  const { d, view, perMinute } = driver()
  try {
    const input = [
      ['ann', 50_000],
      ['ann', 70_000], // minute 1; stream time 70 s
      ['ann', 10_000], // minute 0, 60 s behind: within the 30 s grace after the window's end (60 s + 30 s > 70 s)
      ['bob', 80_000],
      ['bob', 59_000], // minute 0 again, still open until stream time 90 s
      ['ann', 65_000]
    ] as const
    for (const [user, at] of input) await view(user, at)
    assert.equal(perMinute.isEmpty(), true)
    await view('ann', 3 * MINUTE + GRACE_MS) // closes minutes 0, 1 and 2
    const written = perMinute.readKeyValuesToList()
    const expected = expectedCounts(input)
    assert.deepEqual(new Map(written.map(({ key, value }) => [key, value])), expected)
    assert.equal(written.length, expected.size, 'one record per user and minute: final results only')
    assert.deepEqual(
      written.map(({ key }) => key),
      ['ann@0', 'bob@0', 'ann@60000', 'bob@60000'],
      'in the order windows close'
    )
  } finally {
    await d.close()
  }
})

test('views later than the grace period are dropped, counted and logged, and never change a written count', async () => {
  const { d, view, perMinute } = driver()
  try {
    await view('ann', 5_000)
    await view('ann', 20_000)
    await view('ann', MINUTE + GRACE_MS) // closes minute 0
    assert.deepEqual(perMinute.readKeyValuesToList(), [{ key: 'ann@0', value: 2n }])

    await view('ann', 30_000) // minute 0 closed: too late
    await view('bob', 59_999) // too late as well
    assert.equal(d.droppedRecords('late'), 2)
    assert.equal(d.task(1).counters.dropped.late, 2, 'the aggregating task counts them')
    const warning = d.warnings.find((w) => w.fields.reason === 'late')
    assert.match(warning?.message ?? '', /offset 3: the record \(timestamp 30000\) is too late for window \[0, 60000\)/)
    assert.equal(warning?.fields.topic, 'page-views-test-views-by-user-repartition')

    const store = d.getWindowStore<string, bigint>('views-per-minute')
    assert.equal(store.fetch('ann', 0), 2n, 'the late views did not reach the store either')
    assert.equal(store.fetch('bob', 0), null)

    await view('ann', 3 * MINUTE + GRACE_MS)
    assert.deepEqual(
      perMinute.readKeyValuesToList(),
      [{ key: 'ann@60000', value: 1n }],
      'minute 0 is not written again; minute 1 has the view at 90 s'
    )
    assert.equal(store.fetch('ann', 0), null, 'minute 0 has left the store: its retention is size + grace')
  } finally {
    await d.close()
  }
})

test('the suppression buffer is a logged store: what waits to be written survives in its changelog', async () => {
  const { d, view } = driver()
  try {
    await view('ann', 1_000)
    await view('ann', 2_000)
    const buffer = d.createOutputTopic(
      'page-views-test-final-views-per-minute-store-changelog',
      Serdes.bytes(),
      Serdes.bytes()
    )
    const records = buffer.readRecordsToList()
    assert.equal(records.length, 2, 'one buffered update per view (no cache on the buffer)')
    assert.equal(records.at(-1)?.value?.subarray(8).readBigInt64BE(0), 2n, 'the latest count of the window')
    await view('ann', MINUTE + GRACE_MS)
    assert.deepEqual(
      buffer.readRecordsToList().map((r) => r.value === null),
      [false, true],
      'the new window is buffered, the emitted one deleted (tombstone)'
    )
  } finally {
    await d.close()
  }
})

test('with the record cache and commits only on the interval, windows that expire before a commit still emit', async () => {
  // As in the runtime: updates wait in the cache until a commit, and stream time may push a window out of the
  // store's retention first. Its update must still reach the emit-final buffer.
  const d = new TopologyTestDriver(pageViews(), { applicationId: 'page-views-cache', commitIntervalMs: 60_000 })
  try {
    const views = d.createInputTopic(topics.views, Serdes.string(), Serdes.jsonSchema(PageView))
    const perMinute = d.createOutputTopic(topics.perMinute, Serdes.string(), Serdes.long())
    const input: [string, number][] = [0, 1, 2, 3, 4].map((minute) => ['ada', minute * MINUTE + 1_000])
    for (const [user, at] of input) await views.pipeInput(`v-${at}`, { user, page: '/' }, at)
    await views.pipeInput('closer', { user: 'closer', page: '/' }, 10 * MINUTE)
    d.commit()
    assert.deepEqual(
      new Map(perMinute.readKeyValuesToList().map(({ key, value }) => [key, value])),
      expectedCounts(input)
    )
  } finally {
    d.close()
  }
})

test('sessions: views with pauses up to the gap are one visit, written once it has closed', async () => {
  const { d, view } = driver()
  try {
    const sessions = d.createOutputTopic(topics.sessions, Serdes.string(), Serdes.long())
    const later = 60_000 + SESSION_GAP_MS + 1 // more than the gap after ann's second view: a new visit
    await view('ann', 0)
    await view('bob', 1_000)
    await view('ann', 60_000) // merges with ann's first view: one session [0, 60000]
    assert.equal(sessions.isEmpty(), true, 'no session has closed yet')
    await view('ann', later)
    await view('cy', later + 10 * (SESSION_GAP_MS + GRACE_MS)) // closes every session but its own
    assert.deepEqual(
      new Map(sessions.readKeyValuesToList().map(({ key, value }) => [key, value])),
      new Map([
        [sessionKey('ann', 0, 60_000), 2n],
        [sessionKey('bob', 1_000, 1_000), 1n],
        [sessionKey('ann', later, later), 1n]
      ]),
      'each closed session once, the merged one not at all'
    )
  } finally {
    await d.close()
  }
})
