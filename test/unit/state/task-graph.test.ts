import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Headers, Serdes } from '../../../src/serde/index.ts'
import { keyValueStoreBuilder } from '../../../src/state/index.ts'
import {
  type ProducedRecord,
  planTopology,
  type RawRecord,
  type RecordCollector,
  TaskProcessorGraph,
  Topology
} from '../../../src/topology/index.ts'
import { countProcessor } from '../../support/count-processor.ts'
import { TaskHarness } from './helpers.ts'

function run(cacheMaxBytes: number) {
  const task = new TaskHarness({ cacheMaxBytes })
  const topology = new Topology()
    .addSource('words', 'words', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .addProcessor('count', countProcessor('value'), 'words')
    .addStateStore(
      keyValueStoreBuilder({
        name: 'counts',
        keySerde: Serdes.string(),
        valueSerde: Serdes.int32(),
        caching: true
      }),
      'count'
    )
    .addSink('out', 'counts-out', { keySerde: Serdes.string(), valueSerde: Serdes.int32() }, 'count')
  const sent: ProducedRecord[] = []
  const collector: RecordCollector = { send: (record) => void sent.push(record), partitionCount: () => 4 }
  const graph = new TaskProcessorGraph({
    plan: planTopology(topology, 'app'),
    taskId: task.taskId,
    collector,
    createStore: (builder) => task.manager.createStore(builder)
  })
  graph.init()
  const words = ['a', 'b', 'a', 'c', 'a', 'b']
  const records: RawRecord[] = words.map((word, offset) => ({
    topic: 'words',
    partition: 3,
    offset,
    timestamp: 100 + offset,
    key: null,
    value: Buffer.from(word),
    headers: Headers.empty
  }))
  graph.addRecords(records)
  while (graph.processNext() === true) {}
  const beforeCommit = sent.length
  graph.flush()
  task.manager.commit(task.sink.endOffsets())
  const output = sent.map((r) => [r.key!.toString(), r.value!.readInt32BE(0)])
  return { task, graph, beforeCommit, output }
}

describe('stores inside a TaskProcessorGraph (createStore = TaskStateManager.createStore)', () => {
  test('uncached: every update is forwarded and logged', async () => {
    const { task, graph, beforeCommit, output } = run(0)
    try {
      assert.equal(beforeCommit, 6)
      assert.deepEqual(output.at(-1), ['b', 2])
      assert.equal(task.sink.records.length, 6)
      assert.deepEqual(task.manager.checkpoints(), [{ topic: 'app-counts-changelog', partition: 3, offset: 6n }])
    } finally {
      await graph.close()
      await task.close()
    }
  })

  test('cached: one update per word at commit, in last-update order, and one changelog record each', async () => {
    const { task, graph, beforeCommit, output } = run(1 << 20)
    try {
      assert.equal(beforeCommit, 0)
      assert.deepEqual(output, [
        ['c', 1],
        ['a', 3],
        ['b', 2]
      ])
      assert.equal(task.sink.records.length, 3)
      assert.deepEqual(task.manager.checkpoints(), [{ topic: 'app-counts-changelog', partition: 3, offset: 3n }])
    } finally {
      await graph.close()
      await task.close()
    }
  })
})
