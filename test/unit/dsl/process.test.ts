import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Processor, ProcessorContext, StateStore, StateStoreContext, StoreBuilder } from '../../../src/index.ts'
import { Headers, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

/** A minimal key-value store, enough to exercise the store contract until the state layer exists. */
class MapStore implements StateStore {
  readonly name: string
  readonly persistent = false
  readonly data = new Map<string, number>()
  context: StateStoreContext | undefined
  closed = false
  constructor(name: string) {
    this.name = name
  }
  init(context: StateStoreContext): void {
    this.context = context
  }
  flush(): void {}
  close(): void {
    this.closed = true
  }
}

const mapStore = (name: string): StoreBuilder<MapStore> => ({
  name,
  loggingEnabled: true,
  changelogConfig: {},
  build: () => new MapStore(name)
})

/** Counts per key in a store; emits all counts every 60 s of stream time and a heartbeat every 10 s of wall clock. */
function countingProcessor(): Processor<string, string, string, string> {
  let context: ProcessorContext<string, string>
  let store: MapStore
  return {
    init(c) {
      context = c
      store = c.getStateStore<MapStore>('counts')
      c.schedule(60_000, 'stream-time', (ts) => {
        for (const [key, count] of store.data) {
          void context.forward({ key, value: `count=${count}`, timestamp: ts, headers: Headers.empty })
        }
      })
      c.schedule(10_000, 'wall-clock', (ts) =>
        context.forward({
          key: 'heartbeat',
          value: `wall=${ts} stream=${c.currentStreamTimeMs()}`,
          timestamp: ts,
          headers: Headers.empty
        })
      )
    },
    process(record) {
      store.data.set(record.key, (store.data.get(record.key) ?? 0) + 1)
    }
  }
}

describe('process()', () => {
  function driver() {
    const builder = new StreamsBuilder().addStateStore(mapStore('counts'))
    builder
      .stream('words', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .process(countingProcessor, 'counts')
      .to('counts', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    return new TopologyTestDriver(builder.build(), { applicationId: 'wc', initialWallClockTimeMs: 1_000 })
  }

  test('plugs in a processor with a store; stream-time punctuation follows record timestamps', () => {
    const d = driver()
    const words = d.createInputTopic('words', Serdes.string(), Serdes.string())
    const out = d.createOutputTopic('counts', Serdes.string(), Serdes.string())
    words.pipeInput('a', 'x', 0)
    assert.deepEqual(
      out.readKeyValuesToList(),
      [{ key: 'a', value: 'count=1' }],
      'aligned to 0: fires with the first record'
    )
    words.pipeInput('a', 'x', 30_000)
    words.pipeInput('b', 'x', 59_999)
    assert.equal(out.isEmpty(), true)
    words.pipeInput('b', 'x', 60_000)
    assert.deepEqual(
      out.readRecordsToList().map((r) => [r.key, r.value, r.timestamp]),
      [
        ['a', 'count=2', 60_000],
        ['b', 'count=2', 60_000]
      ]
    )
    words.pipeInput('c', 'x', 500_000)
    assert.equal(out.readRecordsToList().length, 3, 'a jump over many intervals fires once')
    const store = d.getStateStore<MapStore>('counts')
    assert.deepEqual(
      [...store.data],
      [
        ['a', 2],
        ['b', 2],
        ['c', 1]
      ]
    )
    assert.equal(store.context?.changelogTopic, 'wc-counts-changelog')
    assert.equal(store.context?.taskId.toString(), '0_0')
    d.close()
    assert.equal(store.closed, true)
  })

  test('wall-clock punctuation follows advanceWallClockTime, whatever the records say', () => {
    const d = driver()
    const out = d.createOutputTopic('counts', Serdes.string(), Serdes.string())
    d.advanceWallClockTime(9_999)
    assert.equal(out.isEmpty(), true)
    d.advanceWallClockTime(1)
    assert.deepEqual(out.readValuesToList(), ['wall=11000 stream=-1'])
    d.createInputTopic('words', Serdes.string(), Serdes.string()).pipeInput('a', 'x', 5)
    out.readValuesToList()
    d.advanceWallClockTime(25_000)
    assert.deepEqual(out.readValuesToList(), ['wall=36000 stream=5'])
  })

  test('accepts a name and store list as options', () => {
    const builder = new StreamsBuilder().addStateStore(mapStore('counts'))
    builder
      .stream('words', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .process(countingProcessor, { name: 'counter', stores: ['counts'] })
    assert.match(builder.build().describe().toString(), /Processor: counter \(stores: \[counts\]\)/)
  })
})
