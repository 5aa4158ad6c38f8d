import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Processor } from '../../../src/topology/index.ts'
import {
  CopartitioningError,
  checkCopartitioning,
  MissingSourceTopicError,
  planPartitions,
  planTopology,
  TaskId,
  Topology
} from '../../../src/topology/index.ts'

const noop = (): Processor<unknown, unknown> => ({ process() {} })

describe('checkCopartitioning', () => {
  test('names every topic with its partition count when counts differ', () => {
    assert.throws(
      () =>
        checkCopartitioning([{ subtopology: 2, topics: ['orders', 'payments', 'refunds'] }], {
          orders: 6,
          payments: 3,
          refunds: 6
        }),
      (error: unknown) => {
        assert.ok(error instanceof CopartitioningError)
        assert.equal(error.code, 'STREAMLANE_COPARTITIONING_FAILED')
        assert.equal(
          error.message,
          'the source topics of sub-topology 2 must have the same number of partitions, because task 2_<p> reads ' +
            'partition p of each: orders has 6 partitions, payments has 3 partitions, refunds has 6 partitions'
        )
        return true
      }
    )
  })

  test('passes equal counts and reports missing topics', () => {
    checkCopartitioning(
      [{ subtopology: 0, topics: ['a', 'b'] }],
      new Map([
        ['a', 4],
        ['b', 4]
      ])
    )
    assert.throws(() => checkCopartitioning([{ subtopology: 1, topics: ['a', 'ghost'] }], { a: 1 }), {
      name: 'MissingSourceTopicError',
      message: 'source topic ghost of sub-topology 1 does not exist; create it before starting the application'
    })
  })
})

describe('planPartitions', () => {
  function repartitioned(partitions?: number): Topology {
    const topology = new Topology().addSource('src', 'in').addProcessor('p', noop, 'src')
    const topic = topology.addRepartitionTopic('rekey', partitions === undefined ? {} : { partitions })
    return topology.addSink('sink', topic, {}, 'p').addSource('again', topic).addSink('out', 'out', {}, 'again')
  }

  test('a repartition topic without a count takes the input count of the sub-topology writing it', () => {
    const plan = planTopology(repartitioned(), 'app')
    const result = planPartitions(plan, new Map([['in', 6]]))
    assert.deepEqual([...result.repartitionTopics], [['app-rekey-repartition', 6]])
    assert.deepEqual(
      [...result.partitionsPerSubtopology],
      [
        [0, 6],
        [1, 6]
      ]
    )
    assert.equal(result.tasks.length, 12)
    assert.ok(result.tasks[7]!.equals(new TaskId(1, 1)))
  })

  test('a user-chosen count wins and sizes the reading sub-topology', () => {
    const result = planPartitions(planTopology(repartitioned(2), 'app'), new Map([['in', 6]]))
    assert.equal(result.repartitionTopics.get('app-rekey-repartition'), 2)
    assert.equal(result.partitionsPerSubtopology.get(1), 2)
    assert.deepEqual(result.tasks.map(String), ['0_0', '0_1', '0_2', '0_3', '0_4', '0_5', '1_0', '1_1'])
  })

  test("a repartition topic read together with an external topic takes that topic's count", () => {
    const topology = new Topology().addSource('src', 'in')
    const topic = topology.addRepartitionTopic('rekey')
    topology
      .addSink('sink', topic, {}, 'src')
      .addSource('again', topic)
      .addSource('table', 'profiles')
      .addProcessor('both', noop, 'again', 'table')
    const result = planPartitions(
      planTopology(topology, 'app'),
      new Map([
        ['in', 8],
        ['profiles', 3]
      ])
    )
    assert.equal(result.repartitionTopics.get('app-rekey-repartition'), 3)
    assert.equal(result.partitionsPerSubtopology.get(1), 3)
  })

  test('sources of one sub-topology with different counts fail at start, naming topics and counts', () => {
    const topology = new Topology()
      .addSource('a', 'clicks')
      .addSource('b', 'views')
      .addProcessor('merge', noop, 'a', 'b')
    assert.throws(
      () =>
        planPartitions(
          planTopology(topology, 'app'),
          new Map([
            ['clicks', 12],
            ['views', 4]
          ])
        ),
      {
        name: 'CopartitioningError',
        message: /clicks has 12 partitions, views has 4 partitions/
      }
    )
  })

  test('a missing source topic is named', () => {
    const topology = new Topology().addSource('a', 'clicks')
    assert.throws(() => planPartitions(planTopology(topology, 'app'), new Map()), MissingSourceTopicError)
  })

  test('pattern sources read the matching topics from the metadata, sorted', () => {
    const topology = new Topology().addSource('events', /events-.*/)
    const result = planPartitions(
      planTopology(topology, 'app'),
      new Map([
        ['events-b', 2],
        ['events-a', 2],
        ['other', 5]
      ])
    )
    assert.deepEqual(result.sourceTopics.get(0), ['events-a', 'events-b'])
    assert.equal(result.partitionsPerSubtopology.get(0), 2)
  })
})
