/**
 * When a record is too late, per window type, at the exact boundaries (Kafka Streams' rules, which the differential
 * suite in test/conformance checks on generated input):
 *
 * - time windows: a window [start, end) accepts records while end > stream time - grace;
 * - sliding windows: a window [start, end] accepts records while end >= stream time - grace;
 * - session windows: a record is late only when the session it would merge into ends before stream time - grace - gap.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  Serdes,
  SessionWindows,
  SlidingWindows,
  StreamsBuilder,
  TimeWindows,
  type WindowedKey
} from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()
type Windows = TimeWindows | SlidingWindows | SessionWindows

/** Pipes `[key, timestamp]` records into a windowed count; returns the updates as `key@start-end=count` and the drops. */
async function counts(windows: Windows, records: readonly (readonly [string, number, string?])[]) {
  const builder = new StreamsBuilder()
  const grouped = builder.stream('in', { keySerde: str, valueSerde: str }).groupByKey()
  const table = windows.kind === 'session' ? grouped.windowedBy(windows).count() : grouped.windowedBy(windows).count()
  const session = windows.kind === 'session'
  table.toStream().to('out', {
    keySerde: session
      ? Serdes.sessionWindowed(str)
      : Serdes.windowed(str, windows.kind === 'sliding' ? windows.timeDifferenceMs : windows.sizeMs)
  })
  const d = new TopologyTestDriver(builder.build(), { applicationId: 'lateness', cacheMaxBytes: 0 })
  try {
    const input = d.createInputTopic('in', str, str)
    for (const [key, timestamp, value] of records)
      await input.pipeInput(key, value === undefined ? 'x' : value, timestamp)
    const out = d.createOutputTopic(
      'out',
      session ? Serdes.sessionWindowed(str) : Serdes.windowed(str, 1),
      Serdes.long()
    )
    const updates = out
      .readKeyValuesToList()
      .map(({ key, value }: { key: WindowedKey<string>; value: bigint | null }) =>
        session
          ? `${key.key}@${key.window.start}-${key.window.end}=${value}`
          : `${key.key}@${key.window.start}=${value}`
      )
    return { updates, late: d.droppedRecords('late') }
  } finally {
    await d.close()
  }
}

describe('late records at the boundaries', () => {
  test('tumbling: [0, 10) with 5 ms grace is open at stream time 14 and closed at 15', async () => {
    const windows = TimeWindows.ofSizeAndGrace(10, 5)
    assert.deepEqual(
      await counts(windows, [
        ['a', 14],
        ['a', 5]
      ]),
      { updates: ['a@10=1', 'a@0=1'], late: 0 }
    )
    assert.deepEqual(
      await counts(windows, [
        ['a', 15],
        ['a', 5]
      ]),
      { updates: ['a@10=1'], late: 1 }
    )
  })

  test('hopping: a record updates its windows still open and counts once as late for the closed ones', async () => {
    const windows = TimeWindows.ofSizeWithNoGrace(10).advanceBy(5)
    // At stream time 10, [0, 10) has closed; [5, 15) is open.
    assert.deepEqual(
      await counts(windows, [
        ['a', 10],
        ['a', 7]
      ]),
      {
        updates: ['a@5=1', 'a@10=1', 'a@5=2'],
        late: 1
      }
    )
  })

  test('sliding: a record is dropped when its right window [t + 1, t + 1 + d] has closed', async () => {
    const windows = SlidingWindows.ofTimeDifferenceAndGrace(10, 5)
    // Stream time 30, grace 5: windows ending before 25 are closed. t = 14: even its right window [15, 25) ends
    // before 25: dropped. t = 15: its own window [5, 15] is closed (late), the rest is checked window by window.
    assert.deepEqual(
      await counts(windows, [
        ['a', 30],
        ['a', 14]
      ]),
      { updates: ['a@20=1'], late: 1 }
    )
    assert.equal(
      (
        await counts(windows, [
          ['a', 30],
          ['a', 15]
        ])
      ).late,
      1
    )
    // t = 20: its window [10, 20] is closed, but it joins the open window [20, 30] and opens [21, 31].
    assert.deepEqual(
      await counts(windows, [
        ['a', 30],
        ['a', 20]
      ]),
      {
        updates: ['a@20=1', 'a@20=2', 'a@21=1'],
        late: 1
      }
    )
    // At 25 exactly, its window [15, 25] still accepts it. Updates come latest window first, as in Kafka Streams.
    assert.deepEqual(
      await counts(windows, [
        ['a', 30],
        ['a', 25]
      ]),
      {
        updates: ['a@20=1', 'a@20=2', 'a@15=1', 'a@26=1'],
        late: 0
      }
    )
  })

  test('session: the example of issue 15, a@10000 then b@6000 with a 3 s gap and 2 s grace, emits b@6000-6000 = 1', async () => {
    const windows = SessionWindows.ofInactivityGapAndGrace(3000, 2000)
    assert.deepEqual(
      await counts(windows, [
        ['a', 10_000],
        ['b', 6000]
      ]),
      {
        updates: ['a@10000-10000=1', 'b@6000-6000=1'],
        late: 0
      }
    )
  })

  test('session: a new session is late only when it ends before stream time - grace - gap', async () => {
    const windows = SessionWindows.ofInactivityGapAndGrace(3000, 2000)
    // Stream time 10000: sessions ending before 5000 are closed.
    assert.deepEqual(
      await counts(windows, [
        ['a', 10_000],
        ['b', 5000]
      ]),
      {
        updates: ['a@10000-10000=1', 'b@5000-5000=1'],
        late: 0
      }
    )
    assert.deepEqual(
      await counts(windows, [
        ['a', 10_000],
        ['b', 4999]
      ]),
      { updates: ['a@10000-10000=1'], late: 1 }
    )
  })

  test('session: an old record that extends an open session is accepted', async () => {
    const windows = SessionWindows.ofInactivityGapAndGrace(3000, 2000)
    // b@4500 alone would be late (4500 < 5000), but it is within the gap of b's open session [7000, 7000].
    assert.deepEqual(
      await counts(windows, [
        ['b', 7000],
        ['a', 10_000],
        ['b', 4500]
      ]),
      {
        updates: ['b@7000-7000=1', 'a@10000-10000=1', 'b@7000-7000=null', 'b@4500-7000=2'],
        late: 0
      }
    )
  })

  test('null values are aggregated in time and session windows (a count counts them), dropped in sliding ones', async () => {
    const nullValue = null as unknown as string
    const records = [['a', 1, nullValue] as const]
    assert.deepEqual((await counts(TimeWindows.ofSizeWithNoGrace(10), records)).updates, ['a@0=1'])
    assert.deepEqual((await counts(SessionWindows.ofInactivityGapWithNoGrace(10), records)).updates, ['a@1-1=1'])
    assert.deepEqual((await counts(SlidingWindows.ofTimeDifferenceWithNoGrace(10), records)).updates, [])
  })
})
