/**
 * A global store of one's own (addGlobalStore with a processor) through the real runtime on the broker: two instances
 * fill it through their processor from all 3 partitions of its topic before processing starts, keep it updated while
 * they run, and each answers interactive queries on it by itself (API and HTTP), the same on both.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { type KeyValueStore, Stores } from '../../../src/state/index.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createQueryGroup } from '../query/query-group.ts'
import { createTopics } from './support.ts'

const str = Serdes.string()
const strings = { keySerde: str, valueSerde: str }
const TOKEN = 'global-store-token'

/** Prices "1.25" become cents in the store; anything else is not a price and is skipped. */
function pricesTopology(priceTopic: string, orders: string, out: string) {
  const builder = new StreamsBuilder()
  const prices = Stores.keyValueStoreBuilder({
    name: 'prices',
    keySerde: str,
    valueSerde: Serdes.long(),
    persistent: false,
    logging: false
  })
  builder.addGlobalStore(prices, priceTopic, strings, () => {
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
  builder.stream(orders, strings).to(out, strings)
  return builder.build()
}

async function get(host: string, path: string) {
  const response = await fetch(`http://${host}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

test('a global store is filled through its processor before processing and queryable on every instance', async () => {
  const [prices, orders, out] = ['prices', 'orders', 'out'].map((n) => uniqueName(n)) as [string, string, string]
  await createTopics([
    { name: prices, partitions: 3 },
    { name: orders, partitions: 2 },
    { name: out, partitions: 2 }
  ])
  const producer = createProducer({ brokers: testBrokers() })
  const send = (rows: [string, string][]) =>
    producer.send(rows.map(([key, value]) => ({ topic: prices, key: Buffer.from(key), value: Buffer.from(value) })))
  const fruit = ['apple', 'pear', 'fig', 'kiwi', 'plum', 'lime']
  await send([...fruit.map((f, i): [string, string] => [f, `${i + 1}.25`]), ['quince', 'ask us']])

  const applicationId = uniqueName('global-store')
  const group = await createQueryGroup(
    2,
    ({ stateDir, applicationServer }) =>
      new StreamlaneApp(pricesTopology(prices, orders, out), {
        applicationId,
        bootstrapServers: testBrokers(),
        stateDir,
        applicationServer,
        metricsToken: TOKEN,
        commitIntervalMs: 200
      })
  )
  try {
    await Promise.all(group.apps.map((app) => app.start()))
    // start() returns once the global stores are bootstrapped: every price is there, through the processor.
    for (const app of group.apps) {
      const view = app.keyValueStore<string, bigint>('prices')
      assert.deepEqual(
        fruit.map((f) => view.get(f)),
        fruit.map((_f, i) => BigInt(i + 1) * 100n + 25n)
      )
      assert.equal(view.get('quince'), null, 'the processor skipped what is not a price')
      assert.equal(view.approximateNumEntries(), fruit.length)
    }
    for (const host of group.hosts) {
      const one = await get(host, '/stores/prices/keys/fig')
      assert.equal(one.status, 200, JSON.stringify(one.body))
      assert.equal(one.body.value, 325)
      assert.equal(one.body.global, true)
      assert.equal(one.body.host, host, 'each instance answers a global store itself')
      const all = await get(host, '/stores/prices/keys?limit=100')
      assert.equal(all.status, 200, JSON.stringify(all.body))
      assert.deepEqual(
        (all.body.entries as { key: string }[]).map((e) => e.key),
        [...fruit].sort()
      )
    }

    // Updates while running reach every instance, through the processor.
    await send([
      ['fig', '9.99'],
      ['kiwi', 'sold out']
    ])
    await producer.send([{ topic: prices, key: Buffer.from('apple'), value: null }])
    await waitFor('both instances see the updates', () =>
      group.apps.every((app) => {
        const view = app.keyValueStore<string, bigint>('prices')
        return view.get('fig') === 999n && view.get('apple') === null
      })
    )
    for (const app of group.apps) assert.equal(app.keyValueStore<string, bigint>('prices').get('kiwi'), 425n)
  } finally {
    await producer.close()
    await group.close()
  }
})
