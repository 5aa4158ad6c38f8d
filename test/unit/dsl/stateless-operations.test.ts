import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { KStream } from '../../../src/dsl/index.ts'
import { Headers, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()
const int = Serdes.int32()

/** Builds `in` (string -> int32) through `shape`, pipes `input`, and returns what reached `out`. */
function runOn<V>(
  shape: (stream: KStream<string, number>) => KStream<string, V>,
  input: Array<[string, number]>,
  valueSerde = Serdes.json<V>()
) {
  const builder = new StreamsBuilder()
  shape(builder.stream('in', { keySerde: str, valueSerde: int })).to('out', { keySerde: str, valueSerde })
  const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
  const inTopic = driver.createInputTopic('in', str, int)
  for (const [i, [key, value]] of input.entries()) inTopic.pipeInput(key, value, 100 + i)
  return driver.createOutputTopic('out', str, valueSerde).readRecordsToList()
}

const pairs = (records: Array<{ key: unknown; value: unknown }>) => records.map(({ key, value }) => [key, value])

describe('stateless operations', () => {
  test('mapValues changes values and keeps keys, timestamps and headers', () => {
    const builder = new StreamsBuilder()
    builder
      .stream('in', { keySerde: str, valueSerde: int })
      .mapValues((value, key) => `${key}=${value * 2}`)
      .to('out', { valueSerde: str })
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('in', str, int).pipeRecord({ key: 'a', value: 21, timestamp: 5, headers: { trace: 't1' } })
    const [record] = driver.createOutputTopic('out', str, str).readRecordsToList()
    assert.equal(record!.key, 'a')
    assert.equal(record!.value, 'a=42')
    assert.equal(record!.timestamp, 5)
    assert.equal(record!.headers.getString('trace'), 't1')
  })

  test('map changes keys and values together', () => {
    const out = runOn(
      (s) => s.map((key, value) => [`${key}${key}`, { n: value }]),
      [
        ['a', 1],
        ['b', 2]
      ]
    )
    assert.deepEqual(pairs(out), [
      ['aa', { n: 1 }],
      ['bb', { n: 2 }]
    ])
  })

  test('filter keeps matching records, filterNot drops them', () => {
    const input: Array<[string, number]> = [
      ['a', 1],
      ['b', 2],
      ['c', 3],
      ['d', 4]
    ]
    assert.deepEqual(pairs(runOn((s) => s.filter((_, v) => v % 2 === 0), input, int)), [
      ['b', 2],
      ['d', 4]
    ])
    assert.deepEqual(pairs(runOn((s) => s.filterNot((_, v) => v % 2 === 0), input, int)), [
      ['a', 1],
      ['c', 3]
    ])
  })

  test('flatMap emits any number of records per input, flatMapValues any number of values', () => {
    const exploded = runOn(
      (s) => s.flatMap((key, value) => Array.from({ length: value }, (_, i): [string, number] => [`${key}${i}`, i])),
      [
        ['a', 2],
        ['b', 0],
        ['c', 1]
      ],
      int
    )
    assert.deepEqual(pairs(exploded), [
      ['a0', 0],
      ['a1', 1],
      ['c0', 0]
    ])
    const words = runOn((s) => s.flatMapValues((value) => [value, value + 100]), [['k', 1]], int)
    assert.deepEqual(pairs(words), [
      ['k', 1],
      ['k', 101]
    ])
  })

  test('selectKey replaces the key and keeps the value', () => {
    const out = runOn((s) => s.selectKey((key, value) => `${key}-${value}`), [['a', 1]], int)
    assert.deepEqual(pairs(out), [['a-1', 1]])
  })

  test('peek sees every record and passes it on; foreach ends a branch', () => {
    const peeked: string[] = []
    const eaten: string[] = []
    const builder = new StreamsBuilder()
    const stream = builder.stream('in', { keySerde: str, valueSerde: int }).peek((k, v) => peeked.push(`${k}:${v}`))
    stream.to('out')
    stream.foreach((k) => eaten.push(k))
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('in', str, int).pipeKeyValueList([
      ['x', 1],
      ['y', 2]
    ])
    assert.deepEqual(peeked, ['x:1', 'y:2'])
    assert.deepEqual(eaten, ['x', 'y'])
    assert.deepEqual(driver.createOutputTopic('out', str, int).readKeyValuesToList(), [
      { key: 'x', value: 1 },
      { key: 'y', value: 2 }
    ])
  })

  test('to() chooses the topic per record when given a function', () => {
    const builder = new StreamsBuilder()
    builder
      .stream('in', { keySerde: str, valueSerde: int })
      .to((key, value, context) => `${key}-${value > 10 ? 'big' : 'small'}-from-${context.topic}`)
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('in', str, int).pipeKeyValueList([
      ['a', 5],
      ['b', 50]
    ])
    assert.deepEqual(driver.producedTopicNames().sort(), ['a-small-from-in', 'b-big-from-in'])
    assert.deepEqual(driver.createOutputTopic('b-big-from-in', str, int).readValue(), 50)
  })

  test('a filter with a type guard narrows the value type', () => {
    const builder = new StreamsBuilder()
    const isString = (_: string, v: string | number): v is string => typeof v === 'string'
    const narrowed: KStream<string, string> = builder
      .stream('in', { keySerde: str, valueSerde: Serdes.json<string | number>() })
      .filter(isString)
    narrowed.mapValues((v) => v.toUpperCase()).to('out', { valueSerde: str })
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('in', str, Serdes.json<string | number>()).pipeKeyValueList([
      ['a', 'x'],
      ['b', 1]
    ])
    assert.deepEqual(driver.createOutputTopic('out', str, str).readValuesToList(), ['X'])
  })

  test('tombstones and keyless records arrive as null', () => {
    const seen: Array<[unknown, unknown]> = []
    const builder = new StreamsBuilder()
    builder.stream('in', { keySerde: str, valueSerde: int }).foreach((k, v) => seen.push([k, v]))
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('in', str, int).pipeInput(null as never, null as never)
    assert.deepEqual(seen, [[null, null]])
  })
})

describe('names and serdes', () => {
  test('nodes get Kafka Streams style generated names unless named', () => {
    const builder = new StreamsBuilder()
    builder
      .stream('in', { name: 'orders' })
      .filter(() => true)
      .mapValues((v) => v, 'copy-value')
      .to('out', { name: 'to-out', valueSerde: Serdes.bytes() })
    assert.equal(
      builder.build().describe().toString(),
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: orders (topics: [in])',
        '      --> KSTREAM-FILTER-0000000000',
        '    Processor: KSTREAM-FILTER-0000000000 (stores: [])',
        '      --> copy-value',
        '      <-- orders',
        '    Processor: copy-value (stores: [])',
        '      --> to-out',
        '      <-- KSTREAM-FILTER-0000000000',
        '    Sink: to-out (topic: out)',
        '      <-- copy-value',
        '',
        ''
      ].join('\n')
    )
  })

  test("to() without serdes uses the stream's serdes while they are known, and says what to pass when not", () => {
    const builder = new StreamsBuilder()
    const stream = builder.stream('in', { keySerde: str, valueSerde: int })
    stream.filter(() => true).to('kept')
    assert.throws(() => stream.mapValues((v) => String(v)).to('changed'), {
      name: 'TopologyError',
      message:
        "to(): writing topic changed: the value serde of this stream is not known, because an operation since stream() changed the value's type; pass valueSerde in the options"
    })
    assert.throws(
      () => stream.selectKey(() => 1).repartition(),
      /repartition\(KSTREAM-REPARTITION-\d+\): the key serde of this stream is not known/
    )
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('in', str, int).pipeInput('k', 3)
    assert.deepEqual(driver.createOutputTopic('kept', str, int).readKeyValue(), { key: 'k', value: 3 })
  })

  test('a stream without serdes is a stream of Buffers', () => {
    const builder = new StreamsBuilder()
    const raw: KStream<Buffer, Buffer> = builder.stream('in')
    raw.mapValues((v): Buffer => Buffer.concat([v, Buffer.from('!')])).to('out', { valueSerde: Serdes.bytes() })
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('in', Serdes.bytes(), Serdes.bytes()).pipeInput(Buffer.from('k'), Buffer.from('hi'))
    assert.equal(driver.createOutputTopic('out', Serdes.bytes(), Serdes.string()).readValue(), 'hi!')
  })

  test('headers can be replaced by a processor', () => {
    assert.equal(Headers.empty.with('a', 'b').getString('a'), 'b')
  })
})
