import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { KStream } from '../../../src/dsl/index.ts'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()
const int = Serdes.int32()

describe('split()', () => {
  test('a branch chain: a function gives the branch its stream, a consumer leaves it out (Branched.with...)', () => {
    const builder = new StreamsBuilder()
    const branches = builder
      .stream('amounts', { keySerde: str, valueSerde: int })
      .split()
      .branch(
        (_, v) => v >= 1000,
        'large',
        (large) => large.mapValues((v) => `large:${v}`)
      )
      .branch(
        (_, v) => v >= 100,
        'medium',
        (medium) => medium.to('medium')
      )
      .defaultBranch('small', (small) => small.mapValues((v) => `small:${v}`))
    assert.deepEqual(Object.keys(branches), ['large', 'small'])
    const label: KStream<string, string> = branches.large
    label.to('labelled', { valueSerde: str })
    branches.small.to('labelled-small', { valueSerde: str })

    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('amounts', str, int).pipeKeyValueList([
      ['a', 5000],
      ['b', 500],
      ['c', 5]
    ])
    assert.deepEqual(driver.createOutputTopic('labelled', str, str).readValuesToList(), ['large:5000'])
    assert.deepEqual(driver.createOutputTopic('medium', str, int).readValuesToList(), [500])
    assert.deepEqual(driver.createOutputTopic('labelled-small', str, str).readValuesToList(), ['small:5'])
  })

  test('routes each record to the first branch that matches, the rest to the default branch', () => {
    const builder = new StreamsBuilder()
    const branches = builder
      .stream('amounts', { keySerde: str, valueSerde: int })
      .split()
      .branch((_, v) => v >= 1000, 'large')
      .branch((_, v) => v >= 100, 'medium')
      .defaultBranch()
    branches.large.to('large')
    branches.medium.to('medium')
    branches.default.to('small')
    assert.deepEqual(Object.keys(branches), ['large', 'medium', 'default'])

    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('amounts', str, int).pipeKeyValueList([
      ['a', 5000],
      ['b', 500],
      ['c', 5],
      ['d', 1000]
    ])
    const values = (topic: string) => driver.createOutputTopic(topic, str, int).readValuesToList()
    assert.deepEqual(values('large'), [5000, 1000])
    assert.deepEqual(values('medium'), [500])
    assert.deepEqual(values('small'), [5])
  })

  test('a named split prefixes branch keys and node names; without default branch unmatched records are dropped', () => {
    const builder = new StreamsBuilder()
    const branches = builder
      .stream('events', { keySerde: str, valueSerde: str })
      .split({ name: 'kind-' })
      .branch((_, v) => v.startsWith('click'), 'click')
      .noDefaultBranch()
    const clicks: KStream<string, string> = branches['kind-click']
    clicks.to('clicks')
    const description = builder.build().describe().toString()
    assert.match(description, /Processor: kind- \(stores: \[\]\)\n {6}--> kind-click\n/)

    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('events', str, str).pipeKeyValueList([
      ['u', 'click:1'],
      ['u', 'view:1']
    ])
    assert.deepEqual(driver.createOutputTopic('clicks', str, str).readValuesToList(), ['click:1'])
    assert.equal(driver.task(0).counters.processed, 2)
  })

  test('a type-guard branch narrows its stream', () => {
    const builder = new StreamsBuilder()
    const isNumber = (_: string, v: string | number): v is number => typeof v === 'number'
    const { numbers, default: rest } = builder
      .stream('mixed', { keySerde: str, valueSerde: Serdes.json<string | number>() })
      .split()
      .branch(isNumber, 'numbers')
      .defaultBranch()
    numbers.mapValues((n) => n + 1).to('numbers', { valueSerde: int })
    rest.to('rest')
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    driver.createInputTopic('mixed', str, Serdes.json<string | number>()).pipeKeyValueList([
      ['a', 1],
      ['b', 'x']
    ])
    assert.deepEqual(driver.createOutputTopic('numbers', str, int).readValuesToList(), [2])
    assert.deepEqual(driver.createOutputTopic('rest', str, Serdes.json()).readValuesToList(), ['x'])
  })

  test('rejects duplicate branch names and branches after the split is finished', () => {
    const builder = new StreamsBuilder()
    const split = builder
      .stream('in')
      .split()
      .branch(() => true, 'a')
    assert.throws(() => split.branch(() => true, 'a'), /already has a branch named a/)
    split.noDefaultBranch()
    assert.throws(() => split.branch(() => true, 'b'), /is finished/)
  })
})

describe('merge()', () => {
  test('combines two streams into one, keeping the serdes they share', () => {
    const builder = new StreamsBuilder()
    const web = builder.stream('web-orders', { keySerde: str, valueSerde: int })
    const shop = builder.stream('shop-orders', { keySerde: str, valueSerde: int })
    web
      .merge(shop)
      .mapValues((v) => v * 10)
      .to('all-orders', { valueSerde: int })
    const topology = builder.build()
    assert.equal(topology.subtopologies().length, 1, 'merged sources form one sub-topology (one task per partition)')

    const driver = new TopologyTestDriver(topology, { applicationId: 'app' })
    driver.createInputTopic('web-orders', str, int).pipeInput('w', 1, 10)
    driver.createInputTopic('shop-orders', str, int).pipeInput('s', 2, 20)
    driver.createInputTopic('web-orders', str, int).pipeInput('w', 3, 30)
    assert.deepEqual(driver.createOutputTopic('all-orders', str, int).readKeyValuesToList(), [
      { key: 'w', value: 10 },
      { key: 's', value: 20 },
      { key: 'w', value: 30 }
    ])
  })
})
