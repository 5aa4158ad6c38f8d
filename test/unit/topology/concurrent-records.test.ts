/**
 * TaskProcessorGraph in key-ordered mode (`concurrentRecords`): several records of one task in flight at once, each
 * with its own record context across awaits; stream-time punctuators refused.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../../../src/errors.ts'
import { Headers, Serdes } from '../../../src/serde/index.ts'
import type {
  ProcessorContext,
  ProducedRecord,
  ProducedRecordOrigin,
  RawRecord,
  RecordCollector
} from '../../../src/topology/index.ts'
import { ErrorHandlers, planTopology, TaskId, TaskProcessorGraph, Topology } from '../../../src/topology/index.ts'

function raw(offset: number, key: string, value: string | Buffer = `v${offset}`): RawRecord {
  return {
    topic: 'in',
    partition: 0,
    offset,
    timestamp: 1_000 + offset,
    key: Buffer.from(key),
    value: typeof value === 'string' ? Buffer.from(value) : value,
    headers: Headers.empty
  }
}

/** A processor that waits for the test to release each record, then forwards what its context says. */
function graphWithGates(options: { punctuation?: 'stream-time' | 'wall-clock' } = {}) {
  const gates = new Map<string, () => void>()
  const sent: { record: ProducedRecord; origin: ProducedRecordOrigin }[] = []
  const collector: RecordCollector = {
    send: (record, origin) => sent.push({ record, origin }),
    partitionCount: () => 1
  }
  const topology = new Topology()
    .addSource('source', 'in', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .addProcessor(
      'slow',
      () => {
        let context: ProcessorContext<string, string>
        return {
          init(ctx: ProcessorContext<string, string>) {
            context = ctx
            if (options.punctuation) ctx.schedule(1_000, options.punctuation, () => undefined)
          },
          async process(record: { key: string; value: string; timestamp: number; headers: Headers }) {
            await new Promise<void>((resolve) => gates.set(record.key, resolve))
            const { offset } = context.recordMetadata()!
            await context.forward({ ...record, value: `${record.value} at offset ${offset}` })
          }
        }
      },
      'source'
    )
    .addSink('sink', 'out', { keySerde: Serdes.string(), valueSerde: Serdes.string() }, 'slow')
  const graph = new TaskProcessorGraph({
    plan: planTopology(topology, 'app'),
    taskId: new TaskId(0, 0),
    collector,
    concurrentRecords: true,
    errorHandlers: { deserialization: ErrorHandlers.logAndContinue({ logger: { warn: () => {} } }) }
  })
  return { graph, gates, sent }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

test('records in flight together each keep their own metadata and source record across awaits', async () => {
  const { graph, gates, sent } = graphWithGates()
  graph.init()
  const first = graph.processConcurrently(raw(0, 'a'))
  const second = graph.processConcurrently(raw(1, 'b'))
  await tick()
  assert.equal(gates.size, 2, 'both records are in flight')
  assert.equal(graph.streamTimeMs, 1_001, 'stream time: the largest timestamp started')
  gates.get('b')!()
  assert.equal(await second, true)
  gates.get('a')!()
  assert.equal(await first, true)
  assert.deepEqual(
    sent.map(({ record, origin }) => [record.value?.toString(), origin.sourceRecord?.offset]),
    [
      ['v1 at offset 1', 1],
      ['v0 at offset 0', 0]
    ]
  )
  assert.equal(graph.counters.processed, 2)
  assert.equal(graph.currentRecord, null, 'outside any record')
})

test('a record its deserialization handler skips is done at once', () => {
  const { graph, gates } = graphWithGates()
  graph.init()
  // A string serde reads any bytes: an invalid (negative) timestamp goes to the deserialization handler instead.
  const bad = { ...raw(0, 'a'), timestamp: -5 }
  assert.equal(graph.processConcurrently(bad), true)
  assert.equal(gates.size, 0, 'the processor never saw it')
})

test('a stream-time punctuator is refused in key-ordered mode, naming the processor; wall-clock is fine', () => {
  const refused = graphWithGates({ punctuation: 'stream-time' })
  assert.throws(
    () => refused.graph.init(),
    (error: unknown) =>
      error instanceof Error &&
      (error.cause ?? error) instanceof ConfigError &&
      /processor slow .*stream-time punctuator/.test(error.message)
  )
  graphWithGates({ punctuation: 'wall-clock' }).graph.init()
})

test('processConcurrently is refused on a graph not made for it', () => {
  const { graph } = graphWithGates()
  assert.throws(() => graph.processConcurrently(raw(0, 'a')), /cannot call processConcurrently/)
})
