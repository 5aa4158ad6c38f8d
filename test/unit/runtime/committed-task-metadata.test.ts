import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import type { ConsumedRecord } from '../../../src/kafka/index.ts'
import { TaskManager } from '../../../src/runtime/task-manager.ts'
import { decodeCommittedMetadata, encodeCommittedMetadata, planTopology, TaskId } from '../../../src/topology/index.ts'

/** Task 0_0 reads partition 0 of topics `a` and `b`; its last owner committed both, with metadata. */
function setup() {
  const builder = new StreamsBuilder()
  builder
    .stream(['a', 'b'], { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .to('out', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
  const tasks = new TaskManager({
    plan: planTopology(builder.build(), 'app'),
    sourceTopics: new Map([[0, ['a', 'b']]]),
    collector: { send: () => {}, partitionCount: () => 1 },
    maxBufferedPerPartition: 100
  })
  const graph = tasks.createTask(
    new TaskId(0, 0),
    [
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 0 }
    ],
    new Map([
      ['a:0', 10n],
      ['b:0', 20n]
    ]),
    undefined,
    new Map([
      ['a:0', encodeCommittedMetadata(5_000, [['closing-store', 4_000]])],
      ['b:0', encodeCommittedMetadata(7_000, [['closing-store', 3_000]])]
    ])
  )
  const record = (topic: string, offset: number, timestamp: number): ConsumedRecord => ({
    topic,
    partition: 0,
    offset: BigInt(offset),
    timestamp,
    key: Buffer.from('k'),
    value: Buffer.from('v'),
    headers: []
  })
  return { tasks, graph, record }
}

test('a task starts from the committed partition times and the larger processor metadata per key', () => {
  const { graph } = setup()
  assert.equal(graph.streamTimeMs, 7_000, 'stream time is the largest committed partition time')
  assert.equal(graph.processorMetadata.get('closing-store'), 4_000)
  assert.equal(graph.processorMetadata.needsCommit, false, 'what was committed needs no new commit')
})

test('each offset committed carries its partition time and the processor metadata', () => {
  const { tasks, record } = setup()
  // Older than the committed partition time: the partition time stays where the last owner left it.
  tasks.addRecords([record('a', 10, 4_500)])
  tasks.process(10)
  const [offset, ...rest] = tasks.offsetsToCommit()
  assert.equal(rest.length, 0, 'only the partition that moved')
  assert.equal(offset!.offset, 11n)
  const metadata = decodeCommittedMetadata(offset!.metadata)
  assert.equal(metadata.partitionTimeMs, 5_000)
  assert.deepEqual([...metadata.processorMetadata], [['closing-store', 4_000]])
})

test('changed processor metadata is committed with every input partition, once', () => {
  const { tasks, graph } = setup()
  graph.processorMetadata.put('closing-store', 9_000)
  const offsets = tasks.offsetsToCommit()
  assert.deepEqual(
    offsets.map((o) => [o.topic, o.offset, decodeCommittedMetadata(o.metadata).processorMetadata.get('closing-store')]),
    [
      ['a', 10n, 9_000],
      ['b', 20n, 9_000]
    ]
  )
  tasks.markCommitted(offsets)
  assert.deepEqual(tasks.offsetsToCommit(), [], 'nothing moved since')
})
