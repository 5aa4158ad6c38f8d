import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Processor, ProcessorContext } from '../../../src/index.ts'
import { ERROR_HEADERS, ErrorHandlers, ProcessingError, Serdes, StreamsBuilder, Topology } from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()
const int = Serdes.int32()

function upperCase() {
  const builder = new StreamsBuilder()
  builder
    .stream('in', { keySerde: str, valueSerde: str })
    .mapValues((v) => v.toUpperCase())
    .to('out', { valueSerde: str })
  return builder.build()
}

describe('TopologyTestDriver', () => {
  test('gives records piped without a timestamp the topic time, advanced by autoAdvanceMs', () => {
    const driver = new TopologyTestDriver(upperCase(), { applicationId: 'app', initialWallClockTimeMs: 500 })
    const input = driver.createInputTopic('in', str, str, { autoAdvanceMs: 100 })
    input.pipeKeyValueList([
      ['a', 'x'],
      ['b', 'y']
    ])
    input.advanceTime(1_000)
    input.pipeInput('c', 'z')
    input.pipeInput('d', 'w', 42)
    const records = driver.createOutputTopic('out', str, str).readRecordsToList()
    assert.deepEqual(
      records.map((r) => [r.key, r.value, r.timestamp, r.offset]),
      [
        ['a', 'X', 500, 0],
        ['b', 'Y', 600, 1],
        ['c', 'Z', 1_700, 2],
        ['d', 'W', 42, 3]
      ]
    )
  })

  test('output topics share one read position per topic and say when they are empty', () => {
    const driver = new TopologyTestDriver(upperCase(), { applicationId: 'app' })
    driver.createInputTopic('in', str, str).pipeKeyValueList([
      ['a', 'x'],
      ['a', 'y'],
      ['b', 'z']
    ])
    const first = driver.createOutputTopic('out', str, str)
    const second = driver.createOutputTopic('out', str, str)
    assert.equal(first.queueSize, 3)
    assert.deepEqual(first.readKeyValue(), { key: 'a', value: 'X' })
    assert.deepEqual(
      second.readKeyValuesToMap(),
      new Map([
        ['a', 'Y'],
        ['b', 'Z']
      ])
    )
    assert.equal(first.isEmpty(), true)
    assert.throws(() => first.readValue(), {
      code: 'STREAMLANE_TEST_OUTPUT_EMPTY',
      message: 'no unread record on output topic out'
    })
  })

  test('names the source topics when piping into a topic the topology does not read', () => {
    const driver = new TopologyTestDriver(upperCase(), { applicationId: 'app' })
    assert.throws(() => driver.createInputTopic('nope', str, str), {
      code: 'STREAMLANE_TEST_UNKNOWN_TOPIC',
      message: 'topic nope is not read by the topology; sources read: in'
    })
  })

  test('pattern sources read every matching topic created in the driver', () => {
    const builder = new StreamsBuilder()
    builder.stream(/metrics-.*/, { keySerde: str, valueSerde: int }).to('all-metrics')
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('metrics-cpu', str, int).pipeInput('h1', 90, 1)
    driver.createInputTopic('metrics-mem', str, int).pipeInput('h1', 40, 2)
    assert.deepEqual(driver.createOutputTopic('all-metrics', str, int).readValuesToList(), [90, 40])
  })

  test('a topic the topology both writes and reads is fed back in, like a repartition topic', () => {
    const builder = new StreamsBuilder()
    builder
      .stream('step-1', { keySerde: str, valueSerde: int })
      .mapValues((v) => v + 1)
      .to('step-2', { valueSerde: int })
    builder
      .stream('step-2', { keySerde: str, valueSerde: int })
      .mapValues((v) => v * 10)
      .to('step-3', { valueSerde: int })
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('step-1', str, int).pipeInput('k', 1)
    assert.deepEqual(driver.createOutputTopic('step-3', str, int).readValuesToList(), [20])
    assert.deepEqual(driver.createOutputTopic('step-2', str, int).readValuesToList(), [2])
  })

  test('runs asynchronous processors: piping returns a promise to await, and order is kept', async () => {
    const calls: string[] = []
    const builder = new StreamsBuilder()
    builder
      .stream('in', { keySerde: str, valueSerde: int })
      .process((): Processor<string, number, string, number> => {
        let context: ProcessorContext<string, number>
        return {
          init: (c) => {
            context = c
          },
          async process(record) {
            calls.push(`start ${record.key}`)
            await sleep(record.value)
            calls.push(`end ${record.key}`)
            await context.forward(record)
          }
        }
      })
      .to('out', { keySerde: str, valueSerde: int })
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    const input = driver.createInputTopic('in', str, int)
    const first = input.pipeInput('slow', 30)
    const second = input.pipeInput('fast', 1)
    assert.ok(first instanceof Promise && second instanceof Promise)
    await second
    assert.deepEqual(calls, ['start slow', 'end slow', 'start fast', 'end fast'])
    assert.deepEqual(driver.createOutputTopic('out', str, int).readKeyValuesToList(), [
      { key: 'slow', value: 30 },
      { key: 'fast', value: 1 }
    ])
  })

  test('dead-letter topics are output topics like any other', () => {
    const builder = new StreamsBuilder()
    builder
      .stream('payments', { keySerde: str, valueSerde: Serdes.json<{ cents: number }>() })
      .mapValues((payment) => {
        if (payment.cents < 0) throw new Error(`negative amount ${payment.cents}`)
        return payment.cents
      })
      .to('cents', { valueSerde: int })
    const driver = new TopologyTestDriver(builder.build(), {
      applicationId: 'app',
      errorHandlers: { processing: ErrorHandlers.deadLetter('payments-dlq') }
    })
    const payments = driver.createInputTopic('payments', str, Serdes.json<{ cents: number }>())
    payments.pipeInput('p1', { cents: 100 })
    payments.pipeInput('p2', { cents: -5 })
    payments.pipeInput('p3', { cents: 7 })
    assert.deepEqual(driver.createOutputTopic('cents', str, int).readValuesToList(), [100, 7])
    const [dead] = driver.createOutputTopic('payments-dlq', str, Serdes.json<{ cents: number }>()).readRecordsToList()
    assert.deepEqual([dead!.key, dead!.value], ['p2', { cents: -5 }])
    assert.equal(dead!.headers.getString(ERROR_HEADERS.message), 'negative amount -5')
    assert.equal(dead!.headers.getString(ERROR_HEADERS.offset), '1')
  })

  test('a failure under the fail handler surfaces from pipeInput, naming topic, partition and offset', () => {
    const topology = new Topology().addSource('src', 'in').addProcessor(
      'explode',
      (): Processor<Buffer, Buffer> => ({
        process() {
          throw new TypeError('cannot read property of undefined')
        }
      }),
      'src'
    )
    const driver = new TopologyTestDriver(topology, { applicationId: 'app' })
    const input = driver.createInputTopic('in', Serdes.bytes(), Serdes.bytes())
    assert.throws(
      () => input.pipeInput(Buffer.from('k'), Buffer.from('v')),
      (error: unknown) => {
        assert.ok(error instanceof ProcessingError)
        assert.equal(
          error.message,
          'processor explode of task 0_0 failed on the record at topic in partition 0 offset 0: cannot read property of undefined'
        )
        return true
      }
    )
  })

  test('getStateStore names the missing store', () => {
    const driver = new TopologyTestDriver(upperCase(), { applicationId: 'app' })
    assert.throws(() => driver.getStateStore('ghost'), { message: 'the topology has no state store named ghost' })
  })
})
