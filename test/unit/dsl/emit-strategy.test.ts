import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  EmitStrategy,
  Serdes,
  SessionWindows,
  SlidingWindows,
  StreamsBuilder,
  TimeWindows
} from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()
const strings = { keySerde: str, valueSerde: str }
type Windows = TimeWindows | SlidingWindows | SessionWindows

/** Counts per window of `windows`, emitted when each window closes; output "key@start-end" -> count. */
function closingCounts(windows: Windows, cacheMaxBytes?: number) {
  const b = new StreamsBuilder()
  const grouped = b.stream<string, string>('in', strings).groupByKey()
  const counts =
    windows.kind === 'session'
      ? grouped.windowedBy(windows).emitStrategy(EmitStrategy.onWindowClose()).count()
      : grouped.windowedBy(windows).emitStrategy(EmitStrategy.onWindowClose()).count()
  counts
    .toStream()
    .map((k, v) => [`${k.key}@${k.window.start}-${k.window.end}` as string, v] as const)
    .to('out', { keySerde: str, valueSerde: Serdes.long() })
  const d = new TopologyTestDriver(b.build(), {
    applicationId: 'app',
    ...(cacheMaxBytes === undefined ? {} : { cacheMaxBytes })
  })
  const input = d.createInputTopic('in', str, str)
  const output = d.createOutputTopic('out', str, Serdes.long())
  return {
    d,
    pipe: (key: string, timestamp: number) => input.pipeInput(key, 'x', timestamp),
    read: () => output.readRecordsToList().map((r) => [r.key, Number(r.value), r.timestamp])
  }
}

describe('emitStrategy(onWindowClose)', () => {
  test('tumbling windows: each window once, final count, when stream time passes end + grace', async () => {
    const { d, pipe, read } = closingCounts(TimeWindows.ofSizeAndGrace(10, 5))
    try {
      await pipe('a', 1)
      await pipe('a', 4)
      await pipe('b', 12)
      assert.deepEqual(read(), [], 'nothing before a window closes')
      await pipe('a', 8) // within grace of [0, 10)
      await d.advanceWallClockTime(1000)
      await pipe('b', 15) // closes [0, 10)
      assert.deepEqual(read(), [['a@0-10', 3, 8]])
      await d.advanceWallClockTime(1000)
      await pipe('a', 3) // late: dropped, and closes nothing new
      await d.advanceWallClockTime(1000)
      await pipe('c', 25)
      assert.deepEqual(read(), [['b@10-20', 2, 15]])
    } finally {
      await d.close()
    }
  })

  test('in the test driver, as in Kafka Streams, the windows a record closes come out right after it', async () => {
    const { d, pipe, read } = closingCounts(TimeWindows.ofSizeWithNoGrace(10))
    try {
      await pipe('a', 1)
      await pipe('a', 11) // closes [0, 10): the driver looks after every record (the runtime at most once a second)
      assert.deepEqual(read(), [['a@0-10', 1, 1]])
    } finally {
      await d.close()
    }
  })

  test('a jump in stream time past the retention loses the windows it closes, as in Kafka Streams', async () => {
    for (const [cacheMaxBytes, expected] of [
      [0, []], // the store keeps windows starting from 40 - (10 + 5): [0, 10) is gone
      [1024, [['a@0-10', 1, 1]]] // a cached store's time moves on at the next commit: [0, 10) is still there
    ] as const) {
      const { d, pipe, read } = closingCounts(TimeWindows.ofSizeAndGrace(10, 5), cacheMaxBytes)
      try {
        await pipe('a', 1)
        await d.advanceWallClockTime(1000)
        await pipe('a', 40)
        assert.deepEqual(read(), expected, `cacheMaxBytes ${cacheMaxBytes}`)
      } finally {
        await d.close()
      }
    }
  })

  test('sliding and session windows close too', async () => {
    const sliding = closingCounts(SlidingWindows.ofTimeDifferenceWithNoGrace(10))
    try {
      await sliding.pipe('a', 20)
      await sliding.pipe('a', 25)
      await sliding.d.advanceWallClockTime(1000)
      await sliding.pipe('a', 40)
      assert.deepEqual(sliding.read(), [
        ['a@10-20', 1, 20],
        ['a@15-25', 2, 25],
        ['a@21-31', 1, 25]
      ])
    } finally {
      await sliding.d.close()
    }
    const sessions = closingCounts(SessionWindows.ofInactivityGapWithNoGrace(5))
    try {
      await sessions.pipe('a', 10)
      await sessions.pipe('a', 13)
      await sessions.d.advanceWallClockTime(1000)
      await sessions.pipe('b', 30)
      assert.deepEqual(sessions.read(), [['a@10-13', 2, 13]])
    } finally {
      await sessions.d.close()
    }
  })
})
