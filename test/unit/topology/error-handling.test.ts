import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DeserializationError, Headers, Serdes } from '../../../src/serde/index.ts'
import type {
  ErrorHandlerConfig,
  Processor,
  ProcessorContext,
  ProducedRecord,
  RawRecord,
  RecordCollector,
  WarnLogger
} from '../../../src/topology/index.ts'
import {
  deadLetter,
  ERROR_HEADERS,
  fail,
  logAndContinue,
  ProcessingError,
  ProductionError,
  planTopology,
  TaskId,
  TaskProcessorGraph,
  Topology
} from '../../../src/topology/index.ts'

/** in (string key, int32 value) -> double (throws on 13) -> out (int32 value). */
function topology(): Topology {
  return new Topology()
    .addSource('src', 'in', { keySerde: Serdes.string(), valueSerde: Serdes.int32() })
    .addProcessor(
      'double',
      (): Processor<string, number, string, unknown> => {
        let context: ProcessorContext<string, unknown>
        return {
          init: (c) => {
            context = c
          },
          process(record) {
            if (record.value === 13) throw new RangeError('unlucky number')
            return context.forward({ ...record, value: record.value === 7 ? 'seven' : record.value * 2 })
          }
        }
      },
      'src'
    )
    .addSink('out', 'out', { keySerde: Serdes.string(), valueSerde: Serdes.int32() as never }, 'double')
}

function run(records: RawRecord[], errorHandlers: ErrorHandlerConfig = {}, appLogger?: WarnLogger) {
  const sent: ProducedRecord[] = []
  const collector: RecordCollector = { send: (r) => sent.push(r), partitionCount: () => 1 }
  const task = new TaskProcessorGraph({
    plan: planTopology(topology(), 'app'),
    taskId: new TaskId(0, 1),
    collector,
    errorHandlers,
    ...(appLogger ? { logger: appLogger } : {})
  })
  task.init()
  task.addRecords(records)
  let error: unknown
  try {
    while (task.processNext() === true) {}
  } catch (e) {
    error = e
  }
  return { sent, task, error }
}

function record(offset: number, value: Buffer, headers = Headers.empty): RawRecord {
  return { topic: 'in', partition: 1, offset, timestamp: 1_000 + offset, key: Buffer.from('key'), value, headers }
}

const int = (n: number): Buffer => Serdes.int32().serialize('in', n)!
const quietLogger = (): WarnLogger & { lines: string[] } => {
  const lines: string[] = []
  return { lines, warn: (_fields, message) => lines.push(message) }
}

describe('fail (the default)', () => {
  test('a record whose bytes cannot be read stops the task with topic, partition and offset', () => {
    const { error, sent, task } = run([record(4, int(1)), record(5, Buffer.from([1, 2, 3]))])
    assert.ok(error instanceof DeserializationError)
    assert.equal(
      error.message,
      'cannot deserialize the value of the record at topic in partition 1 offset 5: int32 data must be exactly 4 bytes, got 3'
    )
    assert.deepEqual([error.topic, error.partition, error.offset, error.part], ['in', 1, 5, 'value'])
    assert.equal(sent.length, 1)
    assert.deepEqual(
      task.consumedOffsets(),
      [{ topic: 'in', partition: 1, offset: 5 }],
      'the bad record is not committed'
    )
  })

  test('a processor that throws stops the task with processor, task, topic, partition and offset', () => {
    const { error } = run([record(42, int(13))], { processing: fail() })
    assert.ok(error instanceof ProcessingError)
    assert.equal(error.code, 'STREAMLANE_PROCESSING_FAILED')
    assert.equal(
      error.message,
      'processor double of task 0_1 failed on the record at topic in partition 1 offset 42: unlucky number'
    )
    assert.ok(error.cause instanceof RangeError)
  })

  test('a value the sink cannot serialize stops the task with sink, topic and source position', () => {
    const { error } = run([record(9, int(7))])
    assert.ok(error instanceof ProductionError)
    assert.equal(
      error.message,
      'sink out of task 0_1 could not produce to topic out on the record at topic in partition 1 offset 9: ' +
        'cannot serialize the value of a record for topic out: expected an integer in [-2^31, 2^31-1], got seven'
    )
  })
})

describe('logAndContinue', () => {
  test('skips bad records at every stage, counts them, logs them, and commits past them', () => {
    const logger = quietLogger()
    const handler = logAndContinue({ logger })
    const { sent, task, error } = run(
      [record(0, Buffer.from('xx')), record(1, int(13)), record(2, int(7)), record(3, int(5))],
      { deserialization: handler, processing: handler, production: handler }
    )
    assert.equal(error, undefined)
    assert.deepEqual(
      sent.map((r) => r.value!.readInt32BE(0)),
      [10]
    )
    assert.equal(handler.skipped, 3)
    assert.deepEqual(task.counters.skipped, { deserialization: 1, processing: 1, production: 1 })
    assert.equal(logger.lines.length, 3)
    assert.match(logger.lines[1]!, /skipping a record after a processing error: unlucky number/)
    assert.deepEqual(task.consumedOffsets(), [{ topic: 'in', partition: 1, offset: 4 }])
  })

  test("without a logger of its own it logs through the app's, so its lines have the app's shape", () => {
    const app = quietLogger()
    const handler = logAndContinue()
    const { error } = run([record(0, int(13)), record(1, int(5))], { processing: handler }, app)
    assert.equal(error, undefined)
    assert.equal(app.lines.length, 1)
    assert.match(app.lines[0]!, /skipping a record after a processing error: unlucky number/)
  })
})

describe('deadLetter', () => {
  test('sends the original key, value and headers with the error in headers, then continues', () => {
    const dlq = deadLetter('in-dlq')
    const original = Headers.from({ trace: 'abc' })
    const { sent, task } = run([record(17, Buffer.from('bad'), original), record(18, int(13)), record(19, int(2))], {
      deserialization: dlq,
      processing: dlq
    })
    assert.deepEqual(
      sent.map((r) => r.topic),
      ['in-dlq', 'in-dlq', 'out']
    )
    const [bad, failed] = sent as [ProducedRecord, ProducedRecord]
    assert.deepEqual(bad.key, Buffer.from('key'))
    assert.deepEqual(bad.value, Buffer.from('bad'))
    assert.equal(bad.timestamp, 1_017)
    const header = (r: ProducedRecord, name: string): string | undefined => r.headers.getString(name)
    assert.equal(header(bad, 'trace'), 'abc', 'original headers are kept')
    assert.equal(header(bad, ERROR_HEADERS.class), 'DeserializationError')
    assert.equal(header(bad, ERROR_HEADERS.stage), 'deserialization')
    assert.equal(header(bad, ERROR_HEADERS.topic), 'in')
    assert.equal(header(bad, ERROR_HEADERS.partition), '1')
    assert.equal(header(bad, ERROR_HEADERS.offset), '17')
    assert.equal(
      header(bad, ERROR_HEADERS.message),
      'cannot deserialize the value of the record at topic in partition 1 offset 17: int32 data must be exactly 4 bytes, got 3'
    )
    assert.equal(header(failed, ERROR_HEADERS.class), 'RangeError')
    assert.equal(header(failed, ERROR_HEADERS.message), 'unlucky number')
    assert.equal(header(failed, ERROR_HEADERS.stage), 'processing')
    assert.equal(header(failed, ERROR_HEADERS.offset), '18')
    assert.equal(header(failed, ERROR_HEADERS.node), 'double')
    assert.equal(header(failed, ERROR_HEADERS.task), '0_1')
    assert.deepEqual(failed.value, int(13))
    assert.equal(task.counters.deadLettered, 2)
    assert.deepEqual(task.consumedOffsets(), [{ topic: 'in', partition: 1, offset: 20 }])
  })

  test('a handler that throws stops the task with a clear error', () => {
    const broken = {
      name: 'broken',
      handle: (): never => {
        throw new Error('no')
      }
    }
    const { error } = run([record(0, int(13))], { processing: broken })
    assert.match(String(error), /the processing error handler broken threw: no/)
  })
})
