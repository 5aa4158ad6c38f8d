import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Headers, Serdes } from '../../../src/serde/index.ts'
import type {
  Processor,
  ProcessorContext,
  RawRecord,
  RecordCollector,
  StateStore,
  StateStoreContext,
  StoreBuilder,
  WarnLogger
} from '../../../src/topology/index.ts'
import { planTopology, TaskId, TaskProcessorGraph, Topology } from '../../../src/topology/index.ts'

const str = Serdes.string()

function store(name: string, contexts: StateStoreContext[], loggingEnabled = true): StoreBuilder {
  return {
    name,
    loggingEnabled,
    changelogConfig: {},
    build: (): StateStore => ({
      name,
      persistent: false,
      init: (context) => void contexts.push(context),
      flush() {},
      close() {}
    })
  }
}

const collector: RecordCollector = { send() {}, partitionCount: () => 1 }

function raw(offset: number, timestamp: number, key: string | null): RawRecord {
  return {
    topic: 'in',
    partition: 2,
    offset,
    timestamp,
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from('v'),
    headers: Headers.empty
  }
}

describe('source topics as changelogs', () => {
  function tableTopology(contexts: StateStoreContext[]) {
    return new Topology()
      .addSource('src', 'prices', { keySerde: str, valueSerde: str })
      .addProcessor('table', () => ({ process() {} }), 'src')
      .addStateStore(store('prices-store', contexts), 'table')
      .addStateStore(store('other', contexts), 'table')
      .useSourceTopicAsChangelog('prices-store', 'prices')
  }

  test('the plan creates no changelog for such a store, lists it apart, and the store is told when opened', () => {
    const contexts: StateStoreContext[] = []
    const plan = planTopology(tableTopology(contexts), 'app')
    assert.deepEqual([...plan.changelogTopics.keys()], ['app-other-changelog'])
    assert.deepEqual([...plan.sourceChangelogTopics], [['prices-store', 'prices']])
    assert.deepEqual(plan.changelogOf('prices-store'), { topic: 'prices', source: true })
    assert.deepEqual(plan.changelogOf('other'), { topic: 'app-other-changelog', source: false })
    const graph = new TaskProcessorGraph({ plan, taskId: new TaskId(0, 0), collector })
    graph.init()
    assert.deepEqual(
      contexts.map((c) => [c.changelogTopic, c.changelogIsSourceTopic ?? false]),
      [
        ['prices', true],
        ['app-other-changelog', false]
      ]
    )
  })

  test('only a logged store and a topic a source reads qualify', () => {
    const topology = new Topology()
      .addSource('src', 'prices', { keySerde: str, valueSerde: str })
      .addProcessor('table', () => ({ process() {} }), 'src')
      .addStateStore(store('unlogged', [], false), 'table')
      .addStateStore(store('logged', []), 'table')
    assert.throws(() => topology.useSourceTopicAsChangelog('nope', 'prices'), /no such store/)
    assert.throws(() => topology.useSourceTopicAsChangelog('unlogged', 'prices'), /has logging disabled/)
    assert.throws(() => topology.useSourceTopicAsChangelog('logged', 'elsewhere'), /no source reads it/)
  })
})

describe('ProcessorContext.recordDropped', () => {
  test('counts per reason and warns with the processor, task and the record location', () => {
    const warnings: { fields: Record<string, unknown>; message: string }[] = []
    const logger: WarnLogger = { warn: (fields, message) => void warnings.push({ fields, message }) }
    const seenTimestamps: number[] = []
    let graph: TaskProcessorGraph
    const topology = new Topology()
      .addSource('in', 'in', {
        keySerde: str,
        valueSerde: str,
        timestampExtractor: (record) => record.timestamp * 10
      })
      .addProcessor(
        'picky',
        (): Processor<string, string> => {
          let context: ProcessorContext
          return {
            init: (c) => {
              context = c
            },
            process: (record) => {
              seenTimestamps.push(graph.currentTimestampMs)
              if (record.key === null) context.recordDropped('null-key', 'needs a key')
              else if (record.timestamp < 50) context.recordDropped('late', 'too old')
            }
          }
        },
        'in'
      )
    graph = new TaskProcessorGraph({ plan: planTopology(topology, 'app'), taskId: new TaskId(0, 2), collector, logger })
    graph.init()
    graph.addRecords([raw(0, 10, 'a'), raw(1, 3, null), raw(2, 4, 'b')])
    while (graph.processNext() === true) {}
    assert.deepEqual(graph.counters.dropped, { late: 1, 'null-key': 1, 'null-value': 0 })
    assert.deepEqual(warnings[0], {
      fields: { task: '0_2', node: 'picky', reason: 'null-key', topic: 'in', partition: 2, offset: 1 },
      message: 'picky dropped the record at topic in partition 2 offset 1: needs a key'
    })
    assert.equal(warnings[1]?.message, 'picky dropped the record at topic in partition 2 offset 2: too old')
    assert.deepEqual(seenTimestamps, [100, 30, 40], 'currentTimestampMs is the extracted timestamp')
    assert.equal(graph.currentTimestampMs, 100, 'outside a record: the stream time')
  })
})
