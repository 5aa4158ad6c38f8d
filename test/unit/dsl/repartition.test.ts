import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { planPartitions, planTopology, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()
const json = Serdes.json<{ user: string; amount: number }>()

function byUserTopology(partitions?: number) {
  const builder = new StreamsBuilder()
  builder
    .stream('orders', { keySerde: str, valueSerde: json })
    .selectKey((_, order) => order.user)
    .repartition({ name: 'by-user', keySerde: str, ...(partitions ? { partitions } : {}) })
    .mapValues((order) => order.amount)
    .to('amounts-by-user', { valueSerde: Serdes.int32() })
  return builder.build()
}

describe('repartition()', () => {
  test('records go through <app.id>-<name>-repartition and come back, in order, with their new key', () => {
    const driver = new TopologyTestDriver(byUserTopology(), { applicationId: 'shop' })
    const orders = driver.createInputTopic('orders', str, json)
    orders.pipeInput('o1', { user: 'ann', amount: 10 }, 1_000)
    orders.pipeInput('o2', { user: 'bob', amount: 20 }, 2_000)
    orders.pipeInput('o3', { user: 'ann', amount: 30 }, 3_000)

    const through = driver.createOutputTopic('shop-by-user-repartition', str, json).readRecordsToList()
    assert.deepEqual(
      through.map((r) => [r.key, r.value.amount, r.timestamp]),
      [
        ['ann', 10, 1_000],
        ['bob', 20, 2_000],
        ['ann', 30, 3_000]
      ]
    )
    assert.deepEqual(driver.createOutputTopic('amounts-by-user', str, Serdes.int32()).readKeyValuesToList(), [
      { key: 'ann', value: 10 },
      { key: 'bob', value: 20 },
      { key: 'ann', value: 30 }
    ])
    assert.equal(driver.task(1).counters.processed, 3, 'the second sub-topology read the repartition topic')
  })

  test('splits the topology into two sub-topologies at the repartition topic', () => {
    assert.equal(
      byUserTopology().describe().toString(),
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: KSTREAM-SOURCE-0000000000 (topics: [orders])',
        '      --> KSTREAM-KEY-SELECT-0000000001',
        '    Processor: KSTREAM-KEY-SELECT-0000000001 (stores: [])',
        '      --> by-user-repartition-filter',
        '      <-- KSTREAM-SOURCE-0000000000',
        '    Processor: by-user-repartition-filter (stores: [])',
        '      --> by-user-repartition-sink',
        '      <-- KSTREAM-KEY-SELECT-0000000001',
        '    Sink: by-user-repartition-sink (topic: by-user-repartition)',
        '      <-- by-user-repartition-filter',
        '',
        '   Sub-topology: 1',
        '    Source: by-user-repartition-source (topics: [by-user-repartition])',
        '      --> KSTREAM-MAPVALUES-0000000002',
        '    Processor: KSTREAM-MAPVALUES-0000000002 (stores: [])',
        '      --> KSTREAM-SINK-0000000003',
        '      <-- by-user-repartition-source',
        '    Sink: KSTREAM-SINK-0000000003 (topic: amounts-by-user)',
        '      <-- KSTREAM-MAPVALUES-0000000002',
        '',
        ''
      ].join('\n')
    )
  })

  test('the runtime learns the internal topic and its partition count from the plan', () => {
    const derived = planPartitions(planTopology(byUserTopology(), 'shop'), new Map([['orders', 12]]))
    assert.deepEqual([...derived.repartitionTopics], [['shop-by-user-repartition', 12]])
    const chosen = planPartitions(planTopology(byUserTopology(3), 'shop'), new Map([['orders', 12]]))
    assert.deepEqual([...chosen.repartitionTopics], [['shop-by-user-repartition', 3]])
    assert.equal(chosen.tasks.length, 15)
  })

  test('an unnamed repartition gets a generated name', () => {
    const builder = new StreamsBuilder()
    builder.stream('in').repartition().to('out')
    const plan = planTopology(builder.build(), 'app')
    assert.deepEqual([...plan.repartitionTopics.keys()], ['app-KSTREAM-REPARTITION-0000000001-repartition'])
  })
})
