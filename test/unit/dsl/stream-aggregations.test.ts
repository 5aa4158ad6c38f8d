import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Materialized, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()
const int = Serdes.int32()

function entries<K, V>(iterable: Iterable<{ key: K; value: V }>): [K, V][] {
  return [...iterable].map(({ key, value }) => [key, value])
}

describe('groupByKey() / groupBy() and stream aggregations', () => {
  test('groupByKey().count() on a stream partitioned by its key needs no repartition topic', async () => {
    const builder = new StreamsBuilder()
    const counts = builder.stream('clicks', { keySerde: str, valueSerde: str }).groupByKey().count()
    counts.toStream().to('click-counts', { valueSerde: Serdes.long() })
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    try {
      assert.equal(d.plan.subtopologies.length, 1)
      assert.equal(counts.queryableStoreName, 'KSTREAM-AGGREGATE-STATE-STORE-0000000001')
      const clicks = d.createInputTopic('clicks', str, str)
      await clicks.pipeInput('ann', '/a', 1)
      await clicks.pipeInput('bob', '/b', 2)
      await clicks.pipeInput('ann', '/c', 3)
      const out = d.createOutputTopic('click-counts', str, Serdes.long())
      assert.deepEqual(
        out.readRecordsToList().map((r) => [r.key, r.value, r.timestamp]),
        [
          ['ann', 1n, 1],
          ['bob', 1n, 2],
          ['ann', 2n, 3]
        ]
      )
      const store = d.getKeyValueStore<string, bigint>('KSTREAM-AGGREGATE-STATE-STORE-0000000001')
      assert.deepEqual(entries(store.all()), [
        ['ann', 2n],
        ['bob', 1n]
      ])
      assert.deepEqual(
        d
          .createOutputTopic('app-KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog', str, Serdes.long())
          .readKeyValuesToList()
          .map(({ key, value }) => `${key}=${value}`),
        ['ann=1', 'bob=1', 'ann=2']
      )
    } finally {
      await d.close()
    }
  })

  test('groupBy() goes through <app.id>-<store>-repartition, named like Kafka Streams, or after Grouped.name', () => {
    const generated = new StreamsBuilder()
    generated
      .stream('clicks', { keySerde: str, valueSerde: str })
      .groupBy((_, page) => page, { keySerde: str })
      .count()
    const description = generated.build().describe().toString()
    assert.match(
      description,
      /Sink: KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition-sink \(topic: KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition\)/
    )
    assert.match(
      description,
      /Processor: KSTREAM-AGGREGATE-0000000003 \(stores: \[KSTREAM-AGGREGATE-STATE-STORE-0000000002\]\)/
    )

    const byStore = new StreamsBuilder()
    byStore
      .stream('clicks', { keySerde: str, valueSerde: str })
      .groupBy((_, page) => page, { keySerde: str })
      .count(Materialized.as('page-counts'))
    assert.deepEqual([...byStore.build().repartitionTopics().keys()], ['page-counts-repartition'])

    const byGrouped = new StreamsBuilder()
    byGrouped
      .stream('clicks', { keySerde: str, valueSerde: str })
      .groupBy((_, page) => page, { name: 'clicks-by-page', keySerde: str })
      .count(Materialized.as('page-counts'))
    assert.deepEqual([...byGrouped.build().repartitionTopics().keys()], ['clicks-by-page-repartition'])
  })

  test('groupByKey() after a key change repartitions too; records whose new key is null are dropped there and counted', async () => {
    const builder = new StreamsBuilder()
    builder
      .stream('orders', { keySerde: str, valueSerde: str })
      .selectKey((_, customer) => (customer === '' ? (null as unknown as string) : customer))
      .groupByKey({ name: 'by-customer', keySerde: str })
      .count(Materialized.as('orders-per-customer'))
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    try {
      const orders = d.createInputTopic('orders', str, str)
      await orders.pipeInput('o1', 'ann', 1)
      await orders.pipeInput('o2', '', 2)
      await orders.pipeInput('o3', 'ann', 3)
      assert.equal(d.createOutputTopic('app-by-customer-repartition', str, str).queueSize, 2)
      assert.equal(d.droppedRecords('null-key'), 1)
      assert.match(
        d.warnings[0]!.message,
        /^by-customer-repartition-filter dropped the record at topic orders partition 0 offset 1/
      )
      assert.equal(d.getKeyValueStore<string, bigint>('orders-per-customer').get('ann'), 2n)
    } finally {
      await d.close()
    }
  })

  test('reduce combines values; the first value of a key is taken as it is', async () => {
    const builder = new StreamsBuilder()
    builder
      .stream('amounts', { keySerde: str, valueSerde: int })
      .groupByKey()
      .reduce((total, amount) => total + amount, Materialized.as('totals'))
      .toStream()
      .to('totals')
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    try {
      const input = d.createInputTopic('amounts', str, int)
      await input.pipeKeyValueList([
        ['a', 5],
        ['b', 1],
        ['a', 7]
      ])
      assert.deepEqual(
        d
          .createOutputTopic('totals', str, int)
          .readKeyValuesToList()
          .map(({ key, value }) => `${key}=${value}`),
        ['a=5', 'b=1', 'a=12']
      )
      assert.equal(d.getKeyValueStore<string, number>('totals').get('a'), 12)
    } finally {
      await d.close()
    }
  })

  test('aggregate folds into any type; its serde comes from Materialized, and without one the error says so', async () => {
    interface Stats {
      count: number
      max: number
    }
    const statsSerde = Serdes.json<Stats>()
    const build = (materialized: Materialized<string, Stats>) => {
      const builder = new StreamsBuilder()
      builder
        .stream('readings', { keySerde: str, valueSerde: int })
        .groupByKey()
        .aggregate<Stats>(
          () => ({ count: 0, max: Number.NEGATIVE_INFINITY }),
          (_, reading, stats) => ({ count: stats.count + 1, max: Math.max(stats.max, reading) }),
          materialized
        )
        .toStream()
        .to('stats')
      return builder
    }
    assert.throws(() => build({ storeName: 'stats' }), {
      message:
        "aggregate() of store stats: the value serde is not known, because an operation before it changed the value's type; pass valueSerde in Materialized"
    })
    const d = new TopologyTestDriver(build(Materialized.as('stats', { valueSerde: statsSerde })).build(), {
      applicationId: 'app'
    })
    try {
      const input = d.createInputTopic('readings', str, int)
      await input.pipeInput('s1', 3, 10)
      await input.pipeInput('s1', 9, 5)
      await input.pipeInput('s1', 4, 20)
      assert.deepEqual(d.getKeyValueStore<string, Stats>('stats').get('s1'), { count: 3, max: 9 })
      assert.deepEqual(
        d.getTimestampedKeyValueStore<string, Stats>('stats').get('s1')?.timestamp,
        20,
        'latest record time'
      )
      const out = d.createOutputTopic('stats', str, statsSerde).readRecordsToList()
      assert.deepEqual(
        out.map((r) => r.timestamp),
        [10, 10, 20],
        'an aggregate keeps the largest timestamp of its records'
      )
    } finally {
      await d.close()
    }
  })

  test('records without a key or a value are ignored by stream aggregations, and counted', async () => {
    const builder = new StreamsBuilder()
    builder.stream('clicks', { keySerde: str, valueSerde: str }).groupByKey().count(Materialized.as('counts'))
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    try {
      const clicks = d.createInputTopic('clicks', str, str)
      await clicks.pipeInput(null as unknown as string, '/a', 1)
      await clicks.pipeInput('ann', null as unknown as string, 2)
      await clicks.pipeInput('ann', '/b', 3)
      assert.equal(d.droppedRecords('null-key'), 1)
      assert.equal(d.droppedRecords('null-value'), 1)
      assert.equal(d.droppedRecords(), 2)
      assert.equal(d.getKeyValueStore<string, bigint>('counts').get('ann'), 1n)
    } finally {
      await d.close()
    }
  })

  test('a repartition for a grouping needs the serdes; the error names the topic and where to pass them', () => {
    const builder = new StreamsBuilder()
    const grouped = builder
      .stream('clicks', { keySerde: str, valueSerde: str })
      .mapValues((page) => page.length)
      .groupBy((_, length) => String(length), { keySerde: str })
    assert.throws(() => grouped.count(Materialized.as('by-length')), {
      message:
        /count\(\) of store by-length: repartition topic by-length-repartition: the value serde is not known.*pass valueSerde in Grouped/
    })
  })

  test('in-memory stores work the same, and no state directory is created', async () => {
    const builder = new StreamsBuilder()
    builder
      .stream('clicks', { keySerde: str, valueSerde: str })
      .groupByKey()
      .count(Materialized.as('counts', { persistent: false }))
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    try {
      await d.createInputTopic('clicks', str, str).pipeInput('ann', '/a', 1)
      assert.equal(d.getKeyValueStore<string, bigint>('counts').get('ann'), 1n)
      assert.equal(d.stateDir, null)
    } finally {
      await d.close()
    }
  })
})
