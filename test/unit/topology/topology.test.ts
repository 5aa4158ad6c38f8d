import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Serdes } from '../../../src/serde/index.ts'
import type { Processor, StateStore, StoreBuilder } from '../../../src/topology/index.ts'
import { planTopology, Topology, TopologyError } from '../../../src/topology/index.ts'

const noop = (): Processor<unknown, unknown> => ({ process() {} })

function storeBuilder(name: string): StoreBuilder {
  return {
    name,
    loggingEnabled: true,
    changelogConfig: { 'cleanup.policy': 'compact' },
    build: (): StateStore => ({ name, persistent: false, init() {}, flush() {}, close() {} })
  }
}

describe('Topology building', () => {
  test('rejects duplicate names, unknown parents, sinks as parents and a topic read twice', () => {
    const topology = new Topology().addSource('src', 'in').addSink('out', 'out-topic', {}, 'src')
    assert.throws(() => topology.addSource('src', 'other'), {
      name: 'TopologyError',
      message: 'a node named src already exists in this topology'
    })
    assert.throws(() => topology.addProcessor('p', noop, 'missing'), /parent missing of p does not exist/)
    assert.throws(() => topology.addProcessor('p', noop, 'out'), /sink out cannot be the parent of p/)
    assert.throws(() => topology.addProcessor('p', noop), /p needs at least one parent/)
    assert.throws(() => topology.addSource('src2', 'in'), {
      message: 'topic in is already read by source src; a topic can feed only one source (source src2)'
    })
  })

  test('rejects a store added twice or connected to something that is not a processor', () => {
    const topology = new Topology().addSource('src', 'in').addProcessor('p', noop, 'src')
    topology.addStateStore(storeBuilder('counts'), 'p')
    assert.throws(() => topology.addStateStore(storeBuilder('counts')), {
      message: 'a state store named counts was already added'
    })
    assert.throws(() => topology.connectProcessorAndStateStores(['src', 'counts']), /src is not a processor/)
    assert.throws(
      () => topology.connectProcessorAndStateStores(['p', 'nope']),
      /processor p uses state store nope, which was not added/
    )
  })

  test('a store no processor uses and a repartition topic without reader are rejected when planning', () => {
    const unusedStore = new Topology().addSource('src', 'in').addStateStore(storeBuilder('lonely'))
    assert.throws(() => planTopology(unusedStore, 'app'), {
      name: 'TopologyError',
      message: 'state store lonely is not connected to any processor'
    })
    const orphan = new Topology().addSource('src', 'in')
    const topic = orphan.addRepartitionTopic('by-user')
    orphan.addSink('sink', topic, {}, 'src')
    assert.throws(
      () => planTopology(orphan, 'app'),
      /repartition topic by-user-repartition is written but no source reads it/
    )
    assert.throws(() => planTopology(new Topology(), 'app'), TopologyError)
  })

  test('the application id must be usable in topic names', () => {
    const topology = new Topology().addSource('src', 'in')
    assert.throws(() => planTopology(topology, 'my app'), { name: 'ConfigError', code: 'STREAMLANE_CONFIG_INVALID' })
  })
})

describe('describe()', () => {
  test('prints sub-topologies, sources, processors with stores, and sinks in Kafka Streams layout', () => {
    const topology = new Topology()
      .addSource('orders-source', ['orders', 'orders-eu'], { keySerde: Serdes.string(), valueSerde: Serdes.json() })
      .addProcessor('enrich', noop, 'orders-source')
      .addProcessor('count', noop, 'enrich')
      .addStateStore(storeBuilder('order-counts'), 'count')
      .addSink('counts-sink', 'order-counts-out', {}, 'count')
      .addSink('audit-sink', () => 'audit', {}, 'enrich')
      .addSource('clicks-source', /clicks-.*/)
      .addProcessor('click-filter', noop, 'clicks-source')
      .addSink('clicks-sink', 'clicks-out', {}, 'click-filter')

    assert.equal(
      topology.describe().toString(),
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: orders-source (topics: [orders, orders-eu])',
        '      --> enrich',
        '    Processor: enrich (stores: [])',
        '      --> count, audit-sink',
        '      <-- orders-source',
        '    Processor: count (stores: [order-counts])',
        '      --> counts-sink',
        '      <-- enrich',
        '    Sink: counts-sink (topic: order-counts-out)',
        '      <-- count',
        '    Sink: audit-sink (topic: <chosen per record>)',
        '      <-- enrich',
        '',
        '   Sub-topology: 1',
        '    Source: clicks-source (topic pattern: clicks-.*)',
        '      --> click-filter',
        '    Processor: click-filter (stores: [])',
        '      --> clicks-sink',
        '      <-- clicks-source',
        '    Sink: clicks-sink (topic: clicks-out)',
        '      <-- click-filter',
        '',
        ''
      ].join('\n')
    )
    const structured = topology.describe().subtopologies
    assert.equal(structured.length, 2)
    assert.deepEqual(structured[0]!.nodes[2], {
      kind: 'processor',
      name: 'count',
      stores: ['order-counts'],
      predecessors: ['enrich'],
      successors: ['counts-sink']
    })
  })
})

describe('sub-topologies', () => {
  test('a repartition topic splits the graph: a sink into it ends one sub-topology, a source from it starts the next', () => {
    const topology = new Topology().addSource('src', 'in').addProcessor('rekey', noop, 'src')
    const topic = topology.addRepartitionTopic('by-user', { partitions: 4 })
    topology
      .addSink('to-repartition', topic, {}, 'rekey')
      .addSource('from-repartition', topic)
      .addProcessor('after', noop, 'from-repartition')
      .addSink('out', 'out', {}, 'after')

    const subs = topology.subtopologies()
    assert.deepEqual(
      subs.map((sub) => sub.nodes.map((n) => n.name)),
      [
        ['src', 'rekey', 'to-repartition'],
        ['from-repartition', 'after', 'out']
      ]
    )

    const plan = planTopology(topology, 'shop')
    assert.deepEqual(plan.subtopologies[0]!.sinkTopics, ['shop-by-user-repartition'])
    assert.deepEqual(plan.subtopologies[1]!.sourceTopics, ['shop-by-user-repartition'])
    assert.deepEqual(plan.subtopologies[1]!.repartitionSourceTopics, ['shop-by-user-repartition'])
    assert.deepEqual(
      [...plan.repartitionTopics.values()],
      [{ name: 'shop-by-user-repartition', shortName: 'by-user-repartition', partitions: 4, writers: [0], reader: 1 }]
    )
    assert.equal(plan.subtopologyReading('shop-by-user-repartition')?.id, 1)
    assert.equal(plan.subtopologyReading('in')?.id, 0)
    assert.equal(plan.subtopologyReading('unknown'), undefined)
  })

  test('processors sharing a store end up in one sub-topology, with one changelog per logged store', () => {
    const topology = new Topology()
      .addSource('a', 'topic-a')
      .addProcessor('pa', noop, 'a')
      .addSource('b', 'topic-b')
      .addProcessor('pb', noop, 'b')
      .addStateStore(storeBuilder('shared'), 'pa', 'pb')
      .addSource('c', 'topic-c')
    const subs = topology.subtopologies()
    assert.deepEqual(
      subs.map((sub) => sub.nodes.map((n) => n.name)),
      [['a', 'pa', 'b', 'pb'], ['c']]
    )
    const plan = planTopology(topology, 'app')
    assert.deepEqual(
      [...plan.changelogTopics.values()],
      [{ name: 'app-shared-changelog', store: 'shared', subtopology: 0, config: { 'cleanup.policy': 'compact' } }]
    )
  })

  test("pattern sources match whole topic names and never this application's internal topics", () => {
    const topology = new Topology().addSource('src', /events-.*/)
    const plan = planTopology(topology, 'app')
    assert.equal(plan.subtopologyReading('events-1')?.id, 0)
    assert.equal(plan.subtopologyReading('old-events-1'), undefined)
    const greedy = planTopology(new Topology().addSource('all', /.*/), 'app')
    assert.equal(greedy.subtopologyReading('app-x-repartition'), undefined)
    assert.equal(greedy.subtopologyReading('app-store-changelog'), undefined)
    assert.equal(greedy.subtopologyReading('anything')?.id, 0)
  })
})
