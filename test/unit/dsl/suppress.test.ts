import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  Materialized,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  Suppressed,
  TimeWindows,
  type WindowedKey
} from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()

function show(records: readonly { key: WindowedKey<string>; value: bigint | null; timestamp: number }[]): string[] {
  return records.map(
    ({ key, value, timestamp }) => `${key.key}@[${key.window.start},${key.window.end}]=${value} t=${timestamp}`
  )
}

describe('suppress(Suppressed.untilWindowCloses())', () => {
  test('hopping windows: each window once, when stream time reaches its end + grace, in closing order', async () => {
    const builder = new StreamsBuilder()
    builder
      .stream('events', { keySerde: str, valueSerde: str })
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(10, 5).advanceBy(5))
      .count(Materialized.as('counts'))
      .suppress(Suppressed.untilWindowCloses())
      .toStream()
      .to('final')
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    try {
      const events = d.createInputTopic('events', str, str)
      const final = d.createOutputTopic('final', Serdes.windowed(str, 10), Serdes.long())
      await events.pipeInput('a', 'x', 2) // [0,10)
      await events.pipeInput('b', 'x', 7) // [0,10) and [5,15)
      await events.pipeInput('a', 'x', 9)
      await events.pipeInput('a', 'x', 14) // stream time 14: nothing has closed (first end + grace is 15)
      assert.equal(final.isEmpty(), true)
      await events.pipeInput('c', 'x', 15) // closes [0,10)
      assert.deepEqual(show(final.readRecordsToList()), ['a@[0,10]=2 t=9', 'b@[0,10]=1 t=7'])
      await events.pipeInput('c', 'x', 30) // closes [5,15), [10,20) and [15,25)
      assert.deepEqual(show(final.readRecordsToList()), [
        'a@[5,15]=2 t=14',
        'b@[5,15]=1 t=7',
        'a@[10,20]=1 t=14',
        'c@[10,20]=1 t=15',
        'c@[15,25]=1 t=15'
      ])
    } finally {
      await d.close()
    }
  })

  test('sessions: merged-away sessions are never emitted, only the final session', async () => {
    const builder = new StreamsBuilder()
    builder
      .stream('events', { keySerde: str, valueSerde: str })
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 10))
      .count()
      .suppress(Suppressed.untilWindowCloses({ name: 'final-sessions' }))
      .toStream()
      .to('final')
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app', cacheMaxBytes: 0 })
    try {
      const events = d.createInputTopic('events', str, str)
      const final = d.createOutputTopic('final', Serdes.sessionWindowed(str), Serdes.long())
      for (const at of [0, 5, 18, 12]) await events.pipeInput('a', 'x', at) // [0,5] and [18,18], then merged
      assert.equal(final.isEmpty(), true)
      await events.pipeInput('b', 'x', 38) // [0,18] can still be extended by a record at 28 (gap 10, grace 10)
      assert.equal(final.isEmpty(), true)
      await events.pipeInput('b', 'x', 39) // now it cannot: end + gap + grace < stream time
      assert.deepEqual(show(final.readRecordsToList()), ['a@[0,18]=4 t=18'])
      assert.ok(d.plan.storeBuilders.has('final-sessions-store'))
    } finally {
      await d.close()
    }
  })

  test('without suppress, every update goes downstream (through the cache)', async () => {
    const builder = new StreamsBuilder()
    builder
      .stream('events', { keySerde: str, valueSerde: str })
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
      .count()
      .toStream()
      .to('updates')
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app', commitIntervalMs: 1_000 })
    try {
      const events = d.createInputTopic('events', str, str)
      const updates = d.createOutputTopic('updates', Serdes.windowed(str, 10), Serdes.long())
      for (const at of [1, 2, 3]) await events.pipeInput('a', 'x', at)
      assert.equal(updates.isEmpty(), true, 'cached until the commit')
      await d.commit()
      assert.deepEqual(show(updates.readRecordsToList()), ['a@[0,10]=3 t=3'])
    } finally {
      await d.close()
    }
  })

  test('the buffer needs the serdes of the table; a mapped table must name them', () => {
    const builder = new StreamsBuilder()
    const table = builder
      .stream('events', { keySerde: str, valueSerde: str })
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
      .count()
      .mapValues((count) => Number(count))
    assert.throws(() => table.suppress(Suppressed.untilWindowCloses({ name: 'final' })), {
      message: /suppress\(final\): the value serde is not known.*pass valueSerde in Suppressed.untilWindowCloses/
    })
    table.suppress(Suppressed.untilWindowCloses({ name: 'final', valueSerde: Serdes.double() }))
  })
})

describe('suppress buffer limits', () => {
  const build = (limits: { maxRecords?: number; maxBytes?: number }) => {
    const builder = new StreamsBuilder()
    builder
      .stream('events', { keySerde: str, valueSerde: str })
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(10, 0))
      .count(Materialized.as('counts'))
      .suppress(Suppressed.untilWindowCloses(limits))
      .toStream()
      .to('final')
    return builder.build()
  }

  test('maxRecords: windows waiting beyond the limit fail the task; closed windows leave the buffer first', async () => {
    const d = new TopologyTestDriver(build({ maxRecords: 2 }), { applicationId: 'app' })
    try {
      const events = d.createInputTopic('events', str, str)
      await events.pipeInput('a', 'x', 1)
      await events.pipeInput('b', 'x', 2)
      await events.pipeInput('a', 'x', 11) // closes [0,10): a and b leave, a@[10,20) waits
      await events.pipeInput('b', 'x', 12)
      await assert.rejects(
        async () => events.pipeInput('c', 'x', 13),
        (error: Error & { cause?: { code?: string; message?: string } }) =>
          error.cause?.code === 'STREAMLANE_SUPPRESS_BUFFER_FULL' &&
          /holds 3 records .* the limit is 2 records/.test(error.cause.message ?? '')
      )
    } finally {
      await d.close()
    }
  })

  test('limits must be positive integers', () => {
    assert.throws(() => build({ maxBytes: 0 }), /maxBytes must be a positive integer/)
  })
})

describe('suppress(untilTimeLimit)', () => {
  const text = Serdes.string()
  function limited(options: { maxRecords?: number; whenFull?: 'emitEarly' | 'shutDown' } = {}) {
    const b = new StreamsBuilder()
    b.table<string, string>('in', { keySerde: text, valueSerde: text })
      .suppress(Suppressed.untilTimeLimit(10, options))
      .toStream()
      .to('out', { keySerde: text, valueSerde: text })
    const d = new TopologyTestDriver(b.build(), { applicationId: 'app' })
    const input = d.createInputTopic('in', text, text)
    const output = d.createOutputTopic('out', text, text)
    return {
      d,
      pipe: (key: string, value: string | null, timestamp: number) => input.pipeInput(key, value as string, timestamp),
      read: () => output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp])
    }
  }

  test("a key's latest update goes on once stream time passes its first held update plus the limit", async () => {
    const { d, pipe, read } = limited()
    try {
      await pipe('a', 'a1', 0)
      await pipe('b', 'b1', 3)
      await pipe('a', 'a2', 8) // replaces a1, keeps its place (held since 0)
      assert.deepEqual(read(), [])
      await pipe('c', 'c1', 10) // stream time 10: a's wait is over
      assert.deepEqual(read(), [['a', 'a2', 8]])
      await pipe('b', null, 12) // a tombstone replaces b1, and goes on too
      await pipe('c', 'c2', 13)
      assert.deepEqual(read(), [['b', null, 12]])
    } finally {
      await d.close()
    }
  })

  test('a full buffer emits its oldest updates early, or fails the task', async () => {
    const early = limited({ maxRecords: 2 })
    try {
      await early.pipe('a', 'a1', 0)
      await early.pipe('b', 'b1', 1)
      await early.pipe('c', 'c1', 2)
      assert.deepEqual(early.read(), [['a', 'a1', 0]])
    } finally {
      await early.d.close()
    }
    const strict = limited({ maxRecords: 2, whenFull: 'shutDown' })
    try {
      await strict.pipe('a', 'a1', 0)
      await strict.pipe('b', 'b1', 1)
      await assert.rejects(async () => strict.pipe('c', 'c1', 2), /STREAMLANE_SUPPRESS_BUFFER_FULL|over its capacity/)
    } finally {
      await strict.d.close()
    }
  })
})
