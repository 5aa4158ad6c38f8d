import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import {
  ErrorHandlers,
  MAX_RECORD_TIMESTAMP,
  Materialized,
  Serdes,
  StreamsBuilder,
  TimeWindows
} from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()
const Event = z.object({ at: z.number(), user: z.string() })

/** Counts events per user per 10 s, on the event's own `at` field rather than the record timestamp. */
function eventTime(config: { logAndContinue?: boolean } = {}) {
  const builder = new StreamsBuilder()
  builder
    .stream('events', {
      keySerde: str,
      valueSerde: Serdes.jsonSchema(Event),
      timestampExtractor: (record) => record.value.at
    })
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeAndGrace(10_000, 5_000))
    .count(Materialized.as('per-10s'))
  const skipped = ErrorHandlers.logAndContinue({ logger: { warn: () => {} } })
  const d = new TopologyTestDriver(builder.build(), {
    applicationId: 'app',
    ...(config.logAndContinue ? { errorHandlers: { deserialization: skipped } } : {})
  })
  const events = d.createInputTopic('events', str, Serdes.jsonSchema(Event))
  return {
    d,
    skipped,
    send: (user: string, at: number, recordTime = 0) => events.pipeInput(user, { at, user }, recordTime)
  }
}

describe('timestamps', () => {
  test('a timestamp extractor decides the windows, not the record timestamp', async () => {
    const { d, send } = eventTime()
    try {
      await send('ann', 1_000, 99_999_000)
      await send('ann', 12_000, 5)
      const store = d.getWindowStore<string, bigint>('per-10s')
      assert.equal(store.fetch('ann', 0), 1n)
      assert.equal(store.fetch('ann', 10_000), 1n)
      assert.deepEqual(d.getTimestampedWindowStore<string, bigint>('per-10s').fetch('ann', 10_000), {
        value: 1n,
        timestamp: 12_000
      })
    } finally {
      await d.close()
    }
  })

  test('negative and far-future timestamps go to the deserialization handler, named with topic, partition and offset', async () => {
    const failing = eventTime()
    try {
      await assert.rejects(async () => failing.send('ann', -1), {
        code: 'STREAMLANE_TIMESTAMP_INVALID',
        message:
          `invalid timestamp -1 for the record at topic events partition 0 offset 0: timestamps must be integers from 0 ` +
          `to ${MAX_RECORD_TIMESTAMP} (epoch milliseconds up to the year 9999)`
      })
    } finally {
      await failing.d.close()
    }

    const { d, send, skipped } = eventTime({ logAndContinue: true })
    try {
      await send('ann', -5)
      await send('ann', Date.UTC(2026, 0, 1) * 1_000) // microseconds read as milliseconds
      await send('ann', 3_000)
      assert.equal(skipped.skipped, 2)
      assert.equal(d.task(0).counters.skipped.deserialization, 2)
      assert.equal(d.getWindowStore<string, bigint>('per-10s').fetch('ann', 0), 1n, 'stream time was not moved')
    } finally {
      await d.close()
    }
  })
})
