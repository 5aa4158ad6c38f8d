/**
 * The task manager in key-ordered mode (processingOrder 'key', maxConcurrencyPerTask > 1) over a real graph: records
 * of different keys of one partition in flight together, each key in order, commits never past an unfinished record,
 * exactly-once commits at a contiguous boundary, back-pressure on the records not started, and stateful topologies
 * refused with the processor named.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../../../src/errors.ts'
import { type ProcessorContext, Serdes, StreamsBuilder } from '../../../src/index.ts'
import type { ConsumedRecord } from '../../../src/kafka/index.ts'
import { configFromEnvironment, resolveConfig } from '../../../src/runtime/config.ts'
import { checkKeyOrderedTopology, keyOrderedConcurrency } from '../../../src/runtime/key-ordered-records.ts'
import { TaskManager } from '../../../src/runtime/task-manager.ts'
import { type ProducedRecord, planTopology, TaskId } from '../../../src/topology/index.ts'

/** One async processor over topic `in`, partition 0: each record waits until the test releases it by key@offset. */
function setup(options: { exactlyOnce?: boolean; limit?: number; maxInFlight?: number } = {}) {
  const pending = new Map<string, () => void>()
  const started: string[] = []
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
          const label = `${record.key}@${context.recordMetadata()!.offset}`
          started.push(label)
          await new Promise<void>((resolve) => pending.set(label, resolve))
          await context.forward(record)
        }
      }
    })
    .to('out', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
  const tasks = new TaskManager({
    plan: planTopology(builder.build(), 'app'),
    sourceTopics: new Map([[0, ['in']]]),
    collector: { send: (record) => sent.push(record), partitionCount: () => 1 },
    maxBufferedPerPartition: 4,
    maxInFlight: options.maxInFlight ?? 100,
    maxConcurrencyPerTask: options.limit ?? 4,
    exactlyOnce: options.exactlyOnce
  })
  tasks.createTask(new TaskId(0, 0), [{ topic: 'in', partition: 0 }], new Map())
  const records = (...keys: string[]): ConsumedRecord[] =>
    keys.map((key, offset) => ({
      topic: 'in',
      partition: 0,
      offset: BigInt(offset),
      timestamp: 1_000 + offset,
      key: Buffer.from(key),
      value: Buffer.from(`v${offset}`),
      headers: []
    }))
  const finish = async (label: string) => {
    const release = pending.get(label)
    assert.ok(release, `${label} is not in flight (in flight: ${[...pending.keys()].join(', ')})`)
    pending.delete(label)
    release()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { tasks, pending, started, sent, records, finish }
}

const committed = (tasks: TaskManager, position?: bigint) =>
  tasks.offsetsToCommit(undefined, () => position).map((o) => o.offset)

test('records of different keys of one partition run together, each key in order, up to the task limit', async () => {
  const { tasks, pending, started, finish, records, sent } = setup({ limit: 3 })
  tasks.addRecords(records('a', 'b', 'a', 'c', 'd'))
  tasks.process(100)
  assert.deepEqual([...pending.keys()], ['a@0', 'b@1', 'c@3'])
  assert.equal(tasks.inFlight?.records, 3, 'what the metrics and the scaler report')
  await finish('a@0')
  assert.deepEqual([...pending.keys()], ['b@1', 'c@3', 'a@2'])
  for (const label of ['c@3', 'a@2', 'b@1', 'd@4']) await finish(label)
  assert.deepEqual(started, ['a@0', 'b@1', 'c@3', 'a@2', 'd@4'])
  assert.equal(sent.length, 5)
  assert.equal(tasks.processedTotal, 5)
})

test('at-least-once: the commit stops at the lowest unfinished record, and moves as the gap closes', async () => {
  const { tasks, finish, records } = setup()
  tasks.addRecords(records('a', 'a', 'b', 'c'))
  tasks.process(100)
  assert.deepEqual(committed(tasks, 4n), [], 'a@0 in flight: nothing to commit, not even the reader position')
  await finish('b@2')
  await finish('c@3')
  assert.deepEqual(committed(tasks, 4n), [0n], 'b and c finished, a@0 not: the commit stays before a@0')
  tasks.markCommitted([{ topic: 'in', partition: 0, offset: 0n }])
  await finish('a@0')
  assert.deepEqual(committed(tasks, 4n), [1n], 'a@1 (started now) is the lowest unfinished record')
  tasks.markCommitted([{ topic: 'in', partition: 0, offset: 1n }])
  await finish('a@1')
  assert.deepEqual(committed(tasks, 4n), [4n])
  assert.deepEqual(committed(tasks, 9n), [9n], 'drained: the reader position past markers commits')
})

test('exactly-once: a commit waits until every started record and the gaps before them are done', async () => {
  const { tasks, pending, finish, records } = setup({ exactlyOnce: true })
  tasks.addRecords(records('a', 'a', 'b', 'c', 'd', 'e'))
  tasks.process(100)
  assert.deepEqual([...pending.keys()], ['a@0', 'b@2', 'c@3', 'd@4'])
  assert.equal(tasks.holdForCommit(), false)
  await finish('a@0')
  assert.deepEqual([...pending.keys()], ['b@2', 'c@3', 'd@4', 'a@1'], 'the gap a@1 starts while held; e@5 does not')
  for (const label of ['b@2', 'c@3', 'd@4']) await finish(label)
  assert.equal(tasks.holdForCommit(), false, 'a@1 still in flight')
  await finish('a@1')
  assert.equal(tasks.holdForCommit(), true)
  assert.deepEqual(committed(tasks), [5n], 'the transaction covers offsets 0-4, all finished')
  tasks.markCommitted([{ topic: 'in', partition: 0, offset: 5n }])
  tasks.process(100)
  assert.deepEqual([...pending.keys()], ['e@5'], 'after the commit, records start again')
})

test('back-pressure counts the records not started yet; the instance bound holds', () => {
  const { tasks, pending, records } = setup({ limit: 8, maxInFlight: 2 })
  tasks.addRecords(records('a', 'b', 'c', 'd', 'e', 'f', 'g'))
  assert.equal(tasks.buffered, 7)
  assert.deepEqual(
    tasks.backPressure().pause.map((p) => p.partition),
    [0]
  )
  tasks.process(100)
  assert.equal(pending.size, 2, 'maxRecordsInFlight bounds the task limit')
  assert.equal(tasks.buffered, 5)
})

test('key-ordered mode refuses a topology with a store, naming the processor; config needs processingOrder key', () => {
  const builder = new StreamsBuilder()
  builder.stream('in', { keySerde: Serdes.string(), valueSerde: Serdes.string() }).groupByKey().count()
  const plan = planTopology(builder.build(), 'app')
  assert.throws(
    () => checkKeyOrderedTopology(plan),
    (error: unknown) =>
      error instanceof ConfigError && /processor KSTREAM-AGGREGATE-\d+ .*uses state store/.test(error.message)
  )
  assert.equal(keyOrderedConcurrency({ processingOrder: 'partition', maxConcurrencyPerTask: 1 }, plan), 1)
  assert.throws(() => keyOrderedConcurrency({ processingOrder: 'key', maxConcurrencyPerTask: 8 }, plan), ConfigError)
  const base = { applicationId: 'app', bootstrapServers: ['localhost:9092'] }
  assert.throws(
    () => resolveConfig({ ...base, maxConcurrencyPerTask: 8 }),
    (error: unknown) => error instanceof ConfigError && error.field === 'maxConcurrencyPerTask'
  )
  const config = resolveConfig(base, { processingOrder: 'key', maxConcurrencyPerTask: 8 })
  assert.equal(config.maxConcurrencyPerTask, 8)
  assert.equal(resolveConfig(base).maxConcurrencyPerTask, 1, 'default: one record at a time per task')
  assert.equal(resolveConfig(base).processingOrder, 'partition')
  const fromEnv = configFromEnvironment({
    STREAMLANE_PROCESSING_ORDER: 'key',
    STREAMLANE_MAX_CONCURRENCY_PER_TASK: '32'
  })
  assert.deepEqual(
    [resolveConfig(base, fromEnv).processingOrder, resolveConfig(base, fromEnv).maxConcurrencyPerTask],
    ['key', 32]
  )
  assert.throws(
    () => resolveConfig(base, configFromEnvironment({ STREAMLANE_PROCESSING_ORDER: 'keys' })),
    (error: unknown) => error instanceof ConfigError && error.field === 'processingOrder'
  )
})
