/**
 * A failure without an input record says where it happened: in a punctuator, or on a record a store cache
 * forwarded at commit (a cache keeps the latest value per key, not the input record behind it). Records the sinks
 * send carry the same activity, so failures the broker reports later are located the same way.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Serde } from '../../../src/index.ts'
import { Headers, MissingSinkTopicError, ProductionError, Serdes, StreamsBuilder, TaskId } from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'
import {
  type Processor,
  type ProcessorContext,
  type ProducedRecordOrigin,
  planTopology,
  type StateStore,
  type StoreBuilder,
  TaskProcessorGraph,
  Topology
} from '../../../src/topology/index.ts'

const str = Serdes.string()

/** A string serde that refuses to write "2". */
const refusesTwo: Serde<string> = {
  serialize(topic, value) {
    if (value === '2') throw new Error('two is not allowed')
    return str.serialize(topic, value)
  },
  deserialize: (topic, data) => str.deserialize(topic, data)
}

describe('where a failure without an input record happened', () => {
  test('a record a store cache forwards at commit is located at the commit, not in a punctuator', () => {
    const builder = new StreamsBuilder()
    builder
      .stream('in', { keySerde: str, valueSerde: str })
      .groupByKey()
      .count()
      .toStream()
      .mapValues((count) => String(count))
      .to('out', { keySerde: str, valueSerde: refusesTwo })
    // Commits (and so flushes the count's cache) only when asked to.
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app', commitIntervalMs: 60_000 })
    const input = driver.createInputTopic('in', str, str)
    input.pipeInput('a', 'x')
    input.pipeInput('a', 'y')
    const error = (() => {
      try {
        driver.commit()
      } catch (e) {
        return e
      }
    })()
    assert.ok(error instanceof ProductionError, String(error))
    assert.match(
      error.message,
      /^sink KSTREAM-SINK-\d+ of task 0_0 could not produce to topic out on a record its store cache forwarded at commit: /
    )
    assert.doesNotMatch(error.message, /punctuator/)
  })

  test('sinks tell the collector whether they sent while processing, punctuating or flushing', () => {
    const origins: ProducedRecordOrigin[] = []
    let flushed: (() => void) | undefined
    // A store whose flush forwards what it holds, as a record cache does.
    const store: StoreBuilder = {
      name: 'held',
      loggingEnabled: false,
      changelogConfig: {},
      build: (): StateStore => ({ name: 'held', persistent: false, init() {}, flush: () => flushed?.(), close() {} })
    }
    const relay = (): Processor<string, string, string, string> => {
      let context: ProcessorContext<string, string>
      return {
        init(c) {
          context = c
          c.schedule(1_000, 'wall-clock', () =>
            c.forward({ key: 'p', value: 'punctuated', timestamp: 0, headers: Headers.empty })
          )
          flushed = () => void c.forward({ key: 'f', value: 'flushed', timestamp: 0, headers: Headers.empty })
        },
        process: (record) => context.forward(record)
      }
    }
    const topology = new Topology()
      .addSource('src', 'in', { keySerde: str, valueSerde: str })
      .addProcessor('relay', relay, 'src')
      .addStateStore(store, 'relay')
      .addSink('out', 'out', { keySerde: str, valueSerde: str }, 'relay')
    const task = new TaskProcessorGraph({
      plan: planTopology(topology, 'app'),
      taskId: new TaskId(0, 0),
      collector: { send: (_record, origin) => void origins.push(origin), partitionCount: () => 1 },
      wallClock: () => 0
    })
    task.init()
    const raw = { topic: 'in', partition: 0, offset: 7, timestamp: 5, key: null, value: null, headers: Headers.empty }
    task.addRecords([raw])
    assert.equal(task.processNext(), true)
    assert.equal(task.punctuateWallClock(1_000), true)
    task.flush()
    assert.deepEqual(
      origins.map((o) => [o.sourceRecord?.offset ?? null, o.activity]),
      [
        [7, 'processing'],
        [null, 'punctuating'],
        [null, 'flushing']
      ]
    )
    assert.equal(task.currentActivity, undefined, 'nothing is going on between calls')
  })
})

describe('MissingSinkTopicError', () => {
  test('names each sink, its sub-topology and tasks, the topic, and how to fix it', () => {
    const one = new MissingSinkTopicError([{ sink: 'out', topic: 'orders-out', subtopology: 0, partitions: 3 }])
    assert.equal(one.code, 'STREAMLANE_SINK_TOPIC_MISSING')
    assert.equal(
      one.message,
      'sink out of sub-topology 0 (tasks 0_0 to 0_2) writes to topic orders-out, which does not exist; create the ' +
        'topic before starting the application, or check the topic name given to to() or addSink()'
    )
    const two = new MissingSinkTopicError([
      { sink: 'a', topic: 'x', subtopology: 0, partitions: 1 },
      { sink: 'b', topic: 'y', subtopology: 1, partitions: 2 }
    ])
    assert.deepEqual(two.topics, ['x', 'y'])
    assert.equal(
      two.message,
      'output topics x, y do not exist: sink a of sub-topology 0 (task 0_0) writes to topic x; sink b of ' +
        'sub-topology 1 (tasks 1_0 to 1_1) writes to topic y; create them before starting the application, or ' +
        'check the topic names given to to() or addSink()'
    )
  })
})
