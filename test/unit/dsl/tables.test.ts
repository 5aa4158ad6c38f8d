import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Materialized, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()
const int = Serdes.int32()

function entries<K, V>(iterable: Iterable<{ key: K; value: V }>): [K, V][] {
  return [...iterable].map(({ key, value }) => [key, value])
}

describe('builder.table()', () => {
  function prices(materialized = Materialized.as<string, number>('prices')) {
    const builder = new StreamsBuilder()
    builder.table('prices', { keySerde: str, valueSerde: int }, materialized).toStream().to('price-updates')
    return builder.build()
  }

  test('keeps the latest value per key; a tombstone deletes the key and goes downstream', async () => {
    const d = new TopologyTestDriver(prices(), { applicationId: 'shop' })
    try {
      const input = d.createInputTopic('prices', str, int)
      await input.pipeInput('apple', 3, 10)
      await input.pipeInput('pear', 5, 20)
      await input.pipeInput('apple', 4, 30)
      await input.pipeInput('pear', null as unknown as number, 40)
      await input.pipeInput('plum', null as unknown as number, 50) // deleting a key the table never had: nothing
      const store = d.getKeyValueStore<string, number>('prices')
      assert.deepEqual(entries(store.all()), [['apple', 4]])
      assert.deepEqual(d.getTimestampedKeyValueStore<string, number>('prices').get('apple'), {
        value: 4,
        timestamp: 30
      })
      const out = d.createOutputTopic('price-updates', str, int)
      assert.deepEqual(
        out.readRecordsToList().map((r) => [r.key, r.value, r.timestamp]),
        [
          ['apple', 3, 10],
          ['pear', 5, 20],
          ['apple', 4, 30],
          ['pear', null, 40]
        ]
      )
    } finally {
      await d.close()
    }
  })

  test('the source topic is the changelog: nothing else is written, and the plan says so for the runtime', async () => {
    const d = new TopologyTestDriver(prices(), { applicationId: 'shop' })
    try {
      assert.deepEqual([...d.plan.changelogTopics.keys()], [])
      assert.deepEqual([...d.plan.sourceChangelogTopics], [['prices', 'prices']])
      assert.deepEqual(d.plan.changelogOf('prices'), { topic: 'prices', source: true })
      await d.createInputTopic('prices', str, int).pipeInput('apple', 3, 10)
      assert.deepEqual(d.producedTopicNames(), ['price-updates'])
    } finally {
      await d.close()
    }
  })

  test('with serdes other than the topic, the store gets its own changelog', async () => {
    const json = Serdes.json<number>()
    const builder = new StreamsBuilder()
    builder.table('prices', { keySerde: str, valueSerde: int }, { storeName: 'prices-json', valueSerde: json as never })
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'shop' })
    try {
      assert.deepEqual([...d.plan.changelogTopics.keys()], ['shop-prices-json-changelog'])
      await d.createInputTopic('prices', str, int).pipeInput('apple', 3, 10)
      const changelog = d.createOutputTopic('shop-prices-json-changelog', str, json)
      assert.deepEqual(changelog.readKeyValuesToList(), [{ key: 'apple', value: 3 }])
    } finally {
      await d.close()
    }
  })

  test('records without a key are dropped, counted, and logged with topic, partition and offset', async () => {
    const d = new TopologyTestDriver(prices(), { applicationId: 'shop' })
    try {
      const input = d.createInputTopic('prices', str, int)
      await input.pipeInput('apple', 1, 0)
      await input.pipeInput(null as unknown as string, 2, 0)
      assert.equal(d.droppedRecords('null-key'), 1)
      assert.equal(d.task(0).counters.dropped['null-key'], 1)
      assert.equal(d.warnings.length, 1)
      assert.match(
        d.warnings[0]!.message,
        /^KTABLE-SOURCE-0000000001 dropped the record at topic prices partition 0 offset 1: table prices cannot store a record without a key$/
      )
      assert.deepEqual(d.warnings[0]!.fields, {
        task: '0_0',
        node: 'KTABLE-SOURCE-0000000001',
        reason: 'null-key',
        topic: 'prices',
        partition: 0,
        offset: 1
      })
      assert.deepEqual(entries(d.getKeyValueStore('prices').all()), [['apple', 1]])
    } finally {
      await d.close()
    }
  })

  test('an unnamed table gets a store named after its topic', () => {
    const builder = new StreamsBuilder()
    const table = builder.table('prices', { keySerde: str, valueSerde: int })
    assert.equal(table.queryableStoreName, 'prices-STATE-STORE-0000000001')
  })

  test('a store name used twice is an error naming it', () => {
    const builder = new StreamsBuilder()
    builder.table('prices', { keySerde: str, valueSerde: int }, Materialized.as('catalog'))
    assert.throws(() => builder.table('stock', { keySerde: str, valueSerde: int }, Materialized.as('catalog')), {
      code: 'STREAMLANE_TOPOLOGY_INVALID',
      message: /the store name catalog is used twice/
    })
  })
})

describe('KTable operations', () => {
  function pipeline(build: (builder: StreamsBuilder) => void) {
    const builder = new StreamsBuilder()
    build(builder)
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    return { d, input: d.createInputTopic('in', str, int), out: d.createOutputTopic('out', str, int) }
  }

  for (const named of [true, false]) {
    const title = named
      ? 'filter of a named table retracts a key that stops matching with a tombstone, and says nothing of keys that never matched'
      : 'filter of an unnamed table (not materialized, as in Kafka Streams) forwards a tombstone for every rejected record'
    test(title, async () => {
      const { d, input, out } = pipeline((b) =>
        b
          .table('in', { keySerde: str, valueSerde: int }, named ? Materialized.as('in-table') : {})
          .filter((_, v) => v > 10)
          .toStream()
          .to('out')
      )
      try {
        await input.pipeInput('a', 5, 1) // never matched
        await input.pipeInput('a', 20, 2) // matches
        await input.pipeInput('a', 30, 3) // still matches: update
        await input.pipeInput('a', 7, 4) // stops matching: tombstone
        await input.pipeInput('a', 8, 5) // still not matching
        await input.pipeInput('b', 50, 6)
        await input.pipeInput('b', null as unknown as number, 7) // deleted: tombstone
        assert.deepEqual(
          out.readKeyValuesToList().map(({ key, value }) => `${key}=${value}`),
          named
            ? ['a=20', 'a=30', 'a=null', 'b=50', 'b=null']
            : ['a=null', 'a=20', 'a=30', 'a=null', 'a=null', 'b=50', 'b=null']
        )
      } finally {
        await d.close()
      }
    })
  }

  test('filterNot keeps what filter drops; a materialized filter keeps its result in its own store', async () => {
    const { d, input, out } = pipeline((b) =>
      b
        .table('in', { keySerde: str, valueSerde: int })
        .filterNot((_, v) => v > 10, Materialized.as('small'))
        .toStream()
        .to('out')
    )
    try {
      await input.pipeInput('a', 5, 1)
      await input.pipeInput('b', 50, 2)
      await input.pipeInput('a', 15, 3)
      await input.pipeInput('c', 1, 4)
      assert.deepEqual(
        out.readKeyValuesToList().map(({ key, value }) => `${key}=${value}`),
        ['a=5', 'a=null', 'c=1']
      )
      assert.deepEqual(entries(d.getKeyValueStore('small').all()), [['c', 1]])
    } finally {
      await d.close()
    }
  })

  test('mapValues maps new and old values, passes deletes on, and can be materialized', async () => {
    const builder = new StreamsBuilder()
    builder
      .table('in', { keySerde: str, valueSerde: int })
      .mapValues((v, k) => `${k}:${v * 2}`, Materialized.as('doubled', { valueSerde: str }))
      .toStream()
      .to('out', { valueSerde: str })
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    try {
      const input = d.createInputTopic('in', str, int)
      await input.pipeInput('a', 1, 1)
      await input.pipeInput('a', 2, 2)
      await input.pipeInput('a', null as unknown as number, 3)
      await input.pipeInput('b', 4, 4)
      const out = d.createOutputTopic('out', str, str)
      assert.deepEqual(
        out.readKeyValuesToList().map(({ key, value }) => `${key}=${value}`),
        ['a=a:2', 'a=a:4', 'a=null', 'b=b:8']
      )
      assert.deepEqual(entries(d.getKeyValueStore('doubled').all()), [['b', 'b:8']])
      assert.deepEqual(
        d
          .createOutputTopic('app-doubled-changelog', str, str)
          .readKeyValuesToList()
          .map((r) => r.value),
        ['a:2', 'a:4', null, 'b:8']
      )
    } finally {
      await d.close()
    }
  })

  test('toStream() of a table read without serdes given anywhere needs them at to()', () => {
    const builder = new StreamsBuilder()
    const table = builder.table('in', { keySerde: str, valueSerde: int }).mapValues((v) => String(v))
    assert.throws(() => table.toStream().to('out'), /the value serde of this stream is not known/)
  })

  test('suppress() needs a windowed table', () => {
    const builder = new StreamsBuilder()
    const table = builder.table('in', { keySerde: str, valueSerde: int })
    assert.throws(() => table.suppress({ kind: 'untilWindowCloses' }), /needs a windowed table/)
  })
})
