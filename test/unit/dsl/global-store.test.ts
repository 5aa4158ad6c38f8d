import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type ProcessorContext, Serdes, StreamsBuilder, TopologyError } from '../../../src/index.ts'
import { type KeyValueStore, Stores } from '../../../src/state/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'
import { planTopology } from '../../../src/topology/index.ts'

const str = Serdes.string()
const strings = { keySerde: str, valueSerde: str }

/** A global store of prices in cents, written by a processor that parses "12.50" and drops what is not a price. */
function pricesApp(options: { persistent?: boolean; logging?: boolean } = {}) {
  const b = new StreamsBuilder()
  const prices = Stores.keyValueStoreBuilder({
    name: 'prices',
    keySerde: str,
    valueSerde: Serdes.long(),
    persistent: options.persistent ?? false,
    logging: options.logging ?? false
  })
  b.addGlobalStore(prices, 'price-updates', strings, () => {
    let store: KeyValueStore<string, bigint>
    return {
      init(context) {
        store = context.getStateStore('prices')
      },
      process(record) {
        if (record.value === null) store.delete(record.key)
        else if (/^\d+\.\d\d$/.test(record.value)) store.put(record.key, BigInt(record.value.replace('.', '')))
      }
    }
  })
  b.stream<string, string>('orders', strings)
    .process<string, string>(() => {
      let context: ProcessorContext<string, string>
      return {
        init(ctx) {
          context = ctx
        },
        process(record) {
          const cents = context.getStateStore<KeyValueStore<string, bigint>>('prices').get(record.value)
          return context.forward({ ...record, value: `${record.value}=${cents ?? 'none'}` })
        }
      }
    })
    .to('out', strings)
  return b
}

describe('addGlobalStore', () => {
  test('its processor writes the store from each record; every processor reads it', async () => {
    const d = new TopologyTestDriver(pricesApp().build(), { applicationId: 'app' })
    try {
      const updates = d.createInputTopic('price-updates', str, str)
      const orders = d.createInputTopic('orders', str, str)
      await updates.pipeInput('apple', '1.25', 1)
      await updates.pipeInput('pear', 'free', 2) // not a price: the processor drops it
      await orders.pipeInput('ann', 'apple', 3)
      await orders.pipeInput('ann', 'pear', 4)
      await updates.pipeInput('apple', null as unknown as string, 5)
      await orders.pipeInput('bob', 'apple', 6)
      assert.deepEqual(
        d
          .createOutputTopic('out', str, str)
          .readRecordsToList()
          .map((r) => [r.key, r.value]),
        [
          ['ann', 'apple=125'],
          ['ann', 'pear=none'],
          ['bob', 'apple=none']
        ]
      )
      await updates.pipeInput('fig', '0.40', 7)
      assert.equal(d.getKeyValueStore<string, bigint>('prices').get('fig'), 40n)
    } finally {
      await d.close()
    }
  })

  test('is no task source: its topic makes no sub-topology and is no co-partitioned input', () => {
    const plan = planTopology(pricesApp().build(), 'app')
    assert.equal(plan.subtopologies.length, 1)
    assert.deepEqual(plan.subtopologies[0]!.sourceTopics, ['orders'])
    assert.equal(plan.globalStores.get('prices')!.topic, 'price-updates')
    assert.equal(plan.globalStores.get('prices')!.processor!.name, 'KTABLE-SOURCE-0000000001')
  })

  test('describe() shows each global store as Kafka Streams does: a sub-topology of its own that makes no tasks', () => {
    const b = pricesApp()
    b.globalTable('products', strings, { storeName: 'products' })
    const text = b.build().describe().toString()
    assert.ok(
      text.includes(
        [
          '   Sub-topology: 1 for global store (will not generate tasks)',
          '    Source: KSTREAM-SOURCE-0000000000 (topics: [price-updates])',
          '      --> KTABLE-SOURCE-0000000001',
          '    Processor: KTABLE-SOURCE-0000000001 (stores: [prices])',
          '      --> none',
          '      <-- KSTREAM-SOURCE-0000000000',
          '',
          '   Sub-topology: 2 for global store (will not generate tasks)',
          '    Source: KSTREAM-SOURCE-0000000005 (topics: [products])'
        ].join('\n')
      ),
      text
    )
  })

  test('refuses a logged or persistent store, naming it', () => {
    assert.throws(() => pricesApp({ logging: true }), TopologyError)
    assert.throws(() => pricesApp({ persistent: true }), /global store prices must be in memory/)
  })

  test('its processor cannot forward', async () => {
    const b = new StreamsBuilder()
    b.addGlobalStore(
      Stores.keyValueStoreBuilder({ name: 's', keySerde: str, valueSerde: str, persistent: false, logging: false }),
      't',
      strings,
      () => {
        let forward: (r: never) => unknown
        return {
          init(context) {
            forward = context.forward as never
          },
          process(record) {
            forward(record as never)
          }
        }
      }
    )
    b.stream('other', strings).to('out', strings)
    const d = new TopologyTestDriver(b.build(), { applicationId: 'app' })
    try {
      await assert.rejects(
        async () => d.createInputTopic('t', str, str).pipeInput('k', 'v', 1),
        /forward\(\) is not supported in a global store's processor/
      )
    } finally {
      await d.close()
    }
  })
})
