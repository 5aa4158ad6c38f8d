import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  Materialized,
  Serdes,
  SessionWindows,
  SlidingWindows,
  StreamsBuilder,
  TimeWindows,
  type WindowedKey
} from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()

type Windowing = (grouped: ReturnType<ReturnType<StreamsBuilder['stream']>['groupByKey']>) => unknown

/** Counts events per key with the given windows; output keyed `key@[start,end]` (cache off: every update). */
function windowed(windowing: Windowing, options: { cacheMaxBytes?: number } = {}) {
  const builder = new StreamsBuilder()
  const grouped = builder.stream('events', { keySerde: str, valueSerde: str }).groupByKey()
  windowing(grouped as never)
  const d = new TopologyTestDriver(builder.build(), { applicationId: 'app', cacheMaxBytes: options.cacheMaxBytes ?? 0 })
  const events = d.createInputTopic('events', str, str)
  return { d, send: (key: string, at: number) => events.pipeInput(key, 'x', at) }
}

function show(records: readonly { key: WindowedKey<string>; value: bigint | null }[]): string[] {
  return records.map(({ key, value }) => `${key.key}@[${key.window.start},${key.window.end}]=${value}`)
}

describe('time windows', () => {
  test('TimeWindows arithmetic: tumbling and hopping window starts, and bad definitions', () => {
    const tumbling = TimeWindows.ofSizeWithNoGrace(10)
    assert.deepEqual(tumbling.windowStartsFor(0), [0])
    assert.deepEqual(tumbling.windowStartsFor(25), [20])
    const hopping = TimeWindows.ofSizeAndGrace(10, 5).advanceBy(5)
    assert.deepEqual(hopping.windowStartsFor(3), [0])
    assert.deepEqual(hopping.windowStartsFor(12), [5, 10])
    assert.throws(
      () => TimeWindows.ofSizeAndGrace(0, 1),
      /the window size must be an integer number of milliseconds >= 1/
    )
    assert.throws(() => TimeWindows.ofSizeAndGrace(10, -1), /the grace period/)
    assert.throws(() => tumbling.advanceBy(11), /cannot be larger than the window size/)
  })

  test('tumbling counts per key and window, written with Serdes.windowed keys, kept in a window store', async () => {
    const { d, send } = windowed((g) =>
      g.windowedBy(TimeWindows.ofSizeAndGrace(10_000, 5_000)).count(Materialized.as('counts')).toStream().to('out')
    )
    try {
      await send('a', 1_000)
      await send('a', 9_999)
      await send('b', 5_000)
      await send('a', 10_000)
      const out = d.createOutputTopic('out', Serdes.windowed(str, 10_000), Serdes.long())
      assert.deepEqual(show(out.readKeyValuesToList()), [
        'a@[0,10000]=1',
        'a@[0,10000]=2',
        'b@[0,10000]=1',
        'a@[10000,20000]=1'
      ])
      const store = d.getWindowStore<string, bigint>('counts')
      assert.equal(store.fetch('a', 0), 2n)
      assert.deepEqual(
        [...store.fetch('a', 0, 10_000)].map(({ key, value }) => [key, value]),
        [
          [0, 2n],
          [10_000, 1n]
        ]
      )
      assert.deepEqual(d.plan.changelogTopics.get('app-counts-changelog')?.config, {
        'cleanup.policy': 'compact,delete',
        'retention.ms': String(15_000 + 86_400_000)
      })
    } finally {
      await d.close()
    }
  })

  test('hopping windows: a record counts in every window it falls in', async () => {
    const { d, send } = windowed((g) =>
      g.windowedBy(TimeWindows.ofSizeWithNoGrace(10).advanceBy(5)).count().toStream().to('out')
    )
    try {
      await send('a', 7)
      await send('a', 12)
      const out = d.createOutputTopic('out', Serdes.windowed(str, 10), Serdes.long())
      assert.deepEqual(show(out.readKeyValuesToList()), ['a@[0,10]=1', 'a@[5,15]=1', 'a@[5,15]=2', 'a@[10,20]=1'])
    } finally {
      await d.close()
    }
  })

  test('late records: dropped once stream time passes window end + grace, counted once each, logged', async () => {
    const { d, send } = windowed((g) =>
      g.windowedBy(TimeWindows.ofSizeAndGrace(10, 5).advanceBy(5)).count(Materialized.as('counts')).toStream().to('out')
    )
    try {
      await send('a', 30) // stream time 30: windows ending at or before 25 are closed
      await send('a', 21) // windows [15,25) (closed) and [20,30) (open): counted in the open one, and as late
      await send('a', 9) // windows [0,10) and [5,15): both closed
      const out = d.createOutputTopic('out', Serdes.windowed(str, 10), Serdes.long())
      assert.deepEqual(show(out.readKeyValuesToList()), ['a@[25,35]=1', 'a@[30,40]=1', 'a@[20,30]=1'])
      assert.equal(d.droppedRecords('late'), 2)
      assert.equal(d.warnings.length, 2)
      assert.match(
        d.warnings[1]!.message,
        /offset 2: the record \(timestamp 9\) is too late for window \[0, 10\) of counts: stream time is 30 and the grace period 5 ms/
      )
    } finally {
      await d.close()
    }
  })

  test('a retention shorter than size + grace is an error naming the store', () => {
    const builder = new StreamsBuilder()
    const windowedStream = builder
      .stream('events', { keySerde: str, valueSerde: str })
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(60_000, 30_000))
    assert.throws(() => windowedStream.count(Materialized.as('short', { retentionMs: 60_000 })), {
      code: 'STREAMLANE_TOPOLOGY_INVALID',
      message:
        'window store short: the retention (60000 ms) must be at least the window size plus the grace period (90000 ms), or windows would be deleted while they still accept records'
    })
  })

  test('windowed reduce and aggregate', async () => {
    const builder = new StreamsBuilder()
    const grouped = builder.stream('amounts', { keySerde: str, valueSerde: Serdes.int32() }).groupByKey()
    const windows = TimeWindows.ofSizeAndGrace(100, 50)
    grouped.windowedBy(windows).reduce((a, b) => a + b, Materialized.as('sums'))
    grouped.windowedBy(windows).aggregate(
      () => '',
      (_, v, acc) => `${acc}${v}`,
      Materialized.as('joined', { valueSerde: str })
    )
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    try {
      const input = d.createInputTopic('amounts', str, Serdes.int32())
      await input.pipeInput('a', 1, 10)
      await input.pipeInput('a', 2, 20)
      await input.pipeInput('a', 4, 120)
      assert.equal(d.getWindowStore<string, number>('sums').fetch('a', 0), 3)
      assert.equal(d.getWindowStore<string, number>('sums').fetch('a', 100), 4)
      assert.equal(d.getWindowStore<string, string>('joined').fetch('a', 0), '12')
    } finally {
      await d.close()
    }
  })
})

describe('sliding windows', () => {
  test('one window per distinct set of records within the time difference', async () => {
    const { d, send } = windowed((g) =>
      g
        .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(10, 100))
        .count(Materialized.as('sliding'))
        .toStream()
        .to('out')
    )
    try {
      await send('a', 20)
      await send('a', 25)
      await send('a', 40)
      await send('a', 22) // out of order, within grace
      const out = d.createOutputTopic('out', Serdes.windowed(str, 10), Serdes.long())
      const final = new Map(show(out.readKeyValuesToList()).map((s) => s.split('=') as [string, string]))
      assert.deepEqual(Object.fromEntries(final), {
        'a@[10,20]': '1', // [20]
        'a@[21,31]': '2', // right window of 20: [22, 25]
        'a@[15,25]': '3', // [20, 22, 25]
        'a@[30,40]': '1', // [40]
        'a@[12,22]': '2', // [20, 22]
        'a@[23,33]': '1' // right window of 22: [25]
      })
      assert.equal(final.has('a@[26,36]'), false, 'no empty windows: nothing follows 25 within 10')
    } finally {
      await d.close()
    }
  })

  test('records earlier than the time difference share the window [0, difference]', async () => {
    const { d, send } = windowed((g) =>
      g.windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(10)).count(Materialized.as('early')).toStream().to('out')
    )
    try {
      await send('a', 3)
      await send('a', 5)
      const out = d.createOutputTopic('out', Serdes.windowed(str, 10), Serdes.long())
      assert.deepEqual(
        show(out.readKeyValuesToList()),
        ['a@[0,10]=1', 'a@[4,14]=1', 'a@[0,10]=2'],
        'the right window of 3 holds 5'
      )
      assert.equal(d.getWindowStore<string, bigint>('early').fetch('a', 0), 2n)
    } finally {
      await d.close()
    }
  })

  test('a record too late for all its windows is dropped and counted', async () => {
    const { d, send } = windowed((g) => g.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(10, 5)).count())
    try {
      await send('a', 100)
      await send('a', 80) // 80 + 1 + 10 <= 100 - 5
      assert.equal(d.droppedRecords('late'), 1)
    } finally {
      await d.close()
    }
  })
})

describe('session windows', () => {
  test('records closer than the gap form a session; a record between two sessions merges them', async () => {
    const { d, send } = windowed((g) =>
      g
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 100))
        .count(Materialized.as('sessions'))
        .toStream()
        .to('out')
    )
    try {
      await send('a', 0)
      await send('a', 5) // extends [0,0] to [0,5]
      await send('a', 22) // 17 after 5: a new session
      await send('a', 40) // 18 after 22: another
      await send('a', 14) // within 10 of 5 and of 22: merges both
      const out = d.createOutputTopic('out', Serdes.sessionWindowed(str), Serdes.long())
      assert.deepEqual(show(out.readKeyValuesToList()), [
        'a@[0,0]=1',
        'a@[0,0]=null',
        'a@[0,5]=2',
        'a@[22,22]=1',
        'a@[40,40]=1',
        'a@[0,5]=null',
        'a@[22,22]=null',
        'a@[0,22]=4'
      ])
      const sessions = [...d.getSessionStore<string, bigint>('sessions').fetch('a')]
      assert.deepEqual(
        sessions.map(({ key, value }) => [key.window.start, key.window.end, value]),
        [
          [0, 22, 4n],
          [40, 40, 1n]
        ]
      )
    } finally {
      await d.close()
    }
  })

  test('a record inside an existing session retracts it and writes it anew (uncached), as Kafka Streams does', async () => {
    const { d, send } = windowed((g) =>
      g.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(10)).count().toStream().to('out')
    )
    try {
      await send('a', 0)
      await send('a', 8)
      await send('a', 4)
      const out = d.createOutputTopic('out', Serdes.sessionWindowed(str), Serdes.long())
      assert.deepEqual(show(out.readKeyValuesToList()), [
        'a@[0,0]=1',
        'a@[0,0]=null',
        'a@[0,8]=2',
        'a@[0,8]=null',
        'a@[0,8]=3'
      ])
    } finally {
      await d.close()
    }
  })

  test('a record whose session has closed is dropped as late; sessions aggregate with a merger', async () => {
    const builder = new StreamsBuilder()
    builder
      .stream('events', { keySerde: str, valueSerde: Serdes.int32() })
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 5))
      .aggregate(
        () => 0,
        (_, v, sum) => sum + v,
        (_, a, b) => a + b,
        Materialized.as('sums', { valueSerde: Serdes.int32() })
      )
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    try {
      const input = d.createInputTopic('events', str, Serdes.int32())
      await input.pipeInput('a', 1, 0)
      await input.pipeInput('a', 2, 15) // new session [15,15]
      await input.pipeInput('a', 4, 9) // merges [0,0] and [15,15]
      const store = d.getSessionStore<string, number>('sums')
      assert.deepEqual(
        [...store.fetch('a')].map(({ key, value }) => [key.window.start, key.window.end, value]),
        [[0, 15, 7]]
      )
      await input.pipeInput('a', 8, 100) // stream time 100
      await input.pipeInput('a', 16, 20) // [20,20] would merge with [0,15] but ends long before 100 - 5
      assert.equal(d.droppedRecords('late'), 1)
      assert.deepEqual(
        [...store.fetch('a')].map(({ key, value }) => [key.window.start, key.window.end, value]),
        [[100, 100, 8]],
        '[0,15] has left the store too: its retention is gap + grace'
      )
    } finally {
      await d.close()
    }
  })
})
