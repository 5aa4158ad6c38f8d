import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import {
  Headers,
  Materialized,
  type Processor,
  type ProcessorContext,
  Serdes,
  StreamsBuilder,
  Topology
} from '../../../src/index.ts'
import { type KeyValueStore, keyValueStoreBuilder, type LayeredStore } from '../../../src/state/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()

function counts(materialized = Materialized.as<string, bigint>('counts')) {
  const builder = new StreamsBuilder()
  builder.stream('words', { keySerde: str, valueSerde: str }).groupByKey().count(materialized).toStream().to('out')
  return builder.build()
}

describe('TopologyTestDriver state', () => {
  test('persistent stores live in LMDB under a temporary state directory that close() removes', async () => {
    const d = new TopologyTestDriver(counts(), { applicationId: 'wc' })
    const dir = d.stateDir ?? assert.fail('the driver has no state directory')
    assert.ok(dir.startsWith(tmpdir()))
    await d.createInputTopic('words', str, str).pipeInput('a', 'x', 1)
    assert.ok(existsSync(join(dir, 'wc', '0_0', 'stores.lmdb')))
    await d.close()
    assert.equal(existsSync(dir), false)
  })

  test('after each piped record, caches are flushed and store writes committed (Kafka Streams driver semantics)', async () => {
    const d = new TopologyTestDriver(counts(), { applicationId: 'wc' })
    try {
      await d.createInputTopic('words', str, str).pipeInput('a', 'x', 1)
      const store = d.getStateStore<LayeredStore>('counts')
      assert.equal(store.pendingBytes, 0)
      assert.equal(d.createOutputTopic('out', str, Serdes.long()).queueSize, 1)
      assert.deepEqual(
        d
          .createOutputTopic('wc-counts-changelog', str, Serdes.long())
          .readRecordsToList()
          .map((r) => [r.key, r.value, r.offset]),
        [['a', 1n, 0]]
      )
    } finally {
      await d.close()
    }
  })

  test('with commitIntervalMs, commits (and cached updates) wait for the wall clock or commit()', async () => {
    const d = new TopologyTestDriver(counts(), { applicationId: 'wc', commitIntervalMs: 10_000 })
    try {
      const words = d.createInputTopic('words', str, str)
      const out = d.createOutputTopic('out', str, Serdes.long())
      const changelog = d.createOutputTopic('wc-counts-changelog', str, Serdes.long())
      await words.pipeInput('a', 'x', 1)
      await words.pipeInput('a', 'x', 2)
      const store = d.getStateStore<LayeredStore>('counts')
      assert.equal(out.isEmpty(), true)
      assert.equal(changelog.isEmpty(), true)
      assert.equal(d.getKeyValueStore<string, bigint>('counts').get('a'), 2n, 'reads see cached updates')
      await d.advanceWallClockTime(9_999)
      assert.equal(out.isEmpty(), true)
      await d.advanceWallClockTime(1)
      assert.deepEqual(out.readKeyValuesToList(), [{ key: 'a', value: 2n }])
      assert.equal(changelog.queueSize, 1, 'one changelog record per key per commit')
      assert.equal(store.pendingBytes, 0)
      await words.pipeInput('b', 'x', 3)
      await d.commit()
      assert.deepEqual(out.readKeyValuesToList(), [{ key: 'b', value: 1n }])
    } finally {
      await d.close()
    }
  })

  test('typed views: plain values from timestamped stores, timestamps on request, and kind checks', async () => {
    const d = new TopologyTestDriver(counts(), { applicationId: 'wc' })
    try {
      await d.createInputTopic('words', str, str).pipeInput('a', 'x', 42)
      assert.equal(d.getKeyValueStore<string, bigint>('counts').get('a'), 1n)
      assert.deepEqual(d.getTimestampedKeyValueStore<string, bigint>('counts').get('a'), { value: 1n, timestamp: 42 })
      const iterator = d.getKeyValueStore<string, bigint>('counts').all()
      assert.equal(iterator.peekNextKey(), 'a')
      iterator.close()
      assert.equal('put' in d.getKeyValueStore('counts'), false, 'read-only')
      assert.throws(() => d.getWindowStore('counts'), {
        code: 'STREAMLANE_TEST_STORE_KIND',
        message: /state store counts is a timestamped-key-value store, not a window store/
      })
      assert.throws(() => d.getKeyValueStore('nope'), { code: 'STREAMLANE_TEST_UNKNOWN_STORE' })
    } finally {
      await d.close()
    }
  })

  test('Processor API stores built with the state layer work too (persistent, logged, uncached)', async () => {
    function remember(): Processor<string, string, string, string> {
      let store: KeyValueStore<string, string>
      let context: ProcessorContext<string, string>
      return {
        init(c) {
          context = c
          store = c.getStateStore('last')
        },
        process(record) {
          const previous = store.get(record.key)
          store.put(record.key, record.value)
          return context.forward({ ...record, value: previous ?? '-', headers: Headers.empty })
        }
      }
    }
    const topology = new Topology()
      .addSource('in', 'in', { keySerde: str, valueSerde: str })
      .addProcessor('remember', remember, 'in')
      .addStateStore(keyValueStoreBuilder({ name: 'last', keySerde: str, valueSerde: str }), 'remember')
      .addSink('out', 'out', { keySerde: str, valueSerde: str }, 'remember')
    const d = new TopologyTestDriver(topology, { applicationId: 'app' })
    try {
      const input = d.createInputTopic('in', str, str)
      await input.pipeInput('k', 'v1', 1)
      await input.pipeInput('k', 'v2', 2)
      assert.deepEqual(d.createOutputTopic('out', str, str).readValuesToList(), ['-', 'v1'])
      assert.equal(d.getKeyValueStore<string, string>('last').get('k'), 'v2')
      assert.deepEqual(d.createOutputTopic('app-last-changelog', str, str).readValuesToList(), ['v1', 'v2'])
    } finally {
      await d.close()
    }
  })

  test('warnings go to the configured logger instead of driver.warnings', async () => {
    const seen: string[] = []
    const d = new TopologyTestDriver(counts(), {
      applicationId: 'wc',
      logger: { warn: (_fields, message) => void seen.push(message) }
    })
    try {
      await d.createInputTopic('words', str, str).pipeInput(null as unknown as string, 'x', 1)
      assert.equal(seen.length, 1)
      assert.match(seen[0]!, /dropped the record at topic words partition 0 offset 0/)
      assert.deepEqual(d.warnings, [])
    } finally {
      await d.close()
    }
  })

  test('close() after a failed task still closes the state', async () => {
    const builder = new StreamsBuilder()
    builder
      .stream('words', { keySerde: str, valueSerde: str })
      .groupByKey()
      .aggregate(
        () => 0,
        () => {
          throw new Error('boom')
        },
        Materialized.as('broken', { valueSerde: Serdes.int32() })
      )
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    const dir = d.stateDir!
    await assert.rejects(async () => d.createInputTopic('words', str, str).pipeInput('a', 'x', 1), {
      code: 'STREAMLANE_PROCESSING_FAILED'
    })
    await d.close()
    assert.equal(existsSync(dir), false)
  })
})
