import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ProcessorContext, Serdes, StreamsBuilder } from '../../../src/index.ts'
import type { ConsumedRecord } from '../../../src/kafka/index.ts'
import { TaskManager } from '../../../src/runtime/task-manager.ts'
import { type ProducedRecord, planTopology, TaskId } from '../../../src/topology/index.ts'

/** One async processor over topic `in` (2 partitions): each record waits until the test releases it. */
function setup(options: { exactlyOnce?: boolean } = {}) {
  const pending: (() => void)[] = []
  const sent: ProducedRecord[] = []
  const builder = new StreamsBuilder()
  builder
    .stream('in', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .process<string, string>(() => {
      let context: ProcessorContext<string, string>
      return {
        init(ctx) {
          context = ctx
        },
        async process(record) {
          await new Promise<void>((resolve) => pending.push(resolve))
          await context.forward(record)
        }
      }
    })
    .to('out', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
  const plan = planTopology(builder.build(), 'app')
  const tasks = new TaskManager({
    plan,
    sourceTopics: new Map([[0, ['in']]]),
    collector: { send: (record) => sent.push(record), partitionCount: () => 2 },
    maxBufferedPerPartition: 100,
    exactlyOnce: options.exactlyOnce
  })
  for (const partition of [0, 1]) tasks.createTask(new TaskId(0, partition), [{ topic: 'in', partition }], new Map())
  const record = (partition: number, offset: number): ConsumedRecord => ({
    topic: 'in',
    partition,
    offset: BigInt(offset),
    timestamp: 1_000 + offset,
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(`v${offset}`),
    headers: []
  })
  return { tasks, pending, sent, record }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

test('a record in flight is never committed: not by the consumed offsets, not by the reader position past it', async () => {
  const { tasks, pending, record } = setup()
  tasks.addRecords([record(0, 0), record(0, 1), record(1, 0)])
  tasks.process(100)
  assert.equal(pending.length, 2, 'one record in flight per task')
  assert.equal(tasks.inFlight?.records, 2)
  // The reader has read past every fetched record: its position must not be committed for a busy task.
  const position = () => 2n
  assert.deepEqual(tasks.offsetsToCommit(undefined, position), [])
  pending.shift()!()
  await tick()
  // Partition 0's first record finished, its second is in flight now: offset 1 commits, not the position 2.
  assert.deepEqual(
    tasks.offsetsToCommit(['0_0'], position).map((o) => o.offset),
    [1n]
  )
  assert.equal(tasks.processedTotal, 1)
})

test('exactly-once: a commit waits until every task is idle, and no record starts meanwhile', async () => {
  const { tasks, pending, record } = setup({ exactlyOnce: true })
  tasks.addRecords([record(0, 0), record(0, 1), record(1, 0)])
  tasks.process(100)
  assert.equal(tasks.holdForCommit(), false)
  assert.equal(tasks.commitWaiting, true)
  pending.shift()!()
  await tick()
  assert.equal(pending.length, 1, "partition 0's next record did not start while the commit waits")
  tasks.process(100)
  assert.equal(pending.length, 1, 'process() does not release a hold while the commit waits')
  pending.shift()!()
  await tick()
  assert.equal(tasks.holdForCommit(), true)
  assert.deepEqual(
    tasks.offsetsToCommit().map((o) => `${o.partition}:${o.offset}`),
    ['0:1', '1:1']
  )
  tasks.process(100)
  assert.equal(pending.length, 1, 'after the commit, processing goes on')
})

test('a task closed with a record in flight writes nothing for it', async () => {
  const { tasks, pending, sent, record } = setup()
  tasks.addRecords([record(0, 0)])
  tasks.process(100)
  await tasks.closeTask('0_0', false)
  assert.equal(tasks.inFlight, undefined)
  pending.shift()!()
  await tick()
  await tick()
  assert.equal(sent.length, 0)
  assert.equal(tasks.processedTotal, 0)
})
