import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'
import { planTopology } from '../../../src/topology/index.ts'

const str = Serdes.string()
const strings = { keySerde: str, valueSerde: str }
/** Orders "product:qty" keyed by customer, joined to the products global table by the product before the colon. */
const productOf = (_customer: string | null, order: string): string | null =>
  order.includes(':') ? order.split(':')[0]! : null
const pair = (order: string, product: string | null) => `${order}/${product}`

function driver(kind: 'join' | 'leftJoin') {
  const b = new StreamsBuilder()
  const products = b.globalTable('products', strings, { storeName: 'products' })
  const orders = b.stream('orders', strings)
  ;(kind === 'join' ? orders.join(products, productOf, pair) : orders.leftJoin(products, productOf, pair)).to(
    'out',
    strings
  )
  const d = new TopologyTestDriver(b.build(), { applicationId: 'app' })
  return {
    d,
    orders: d.createInputTopic('orders', str, str),
    products: d.createInputTopic('products', str, str),
    out: () =>
      d
        .createOutputTopic('out', str, str)
        .readRecordsToList()
        .map((r) => [r.key, r.value, r.timestamp])
  }
}

describe('GlobalKTable', () => {
  test('a global table is no task source: no sub-topology, no changelog, no co-partitioning', () => {
    const b = new StreamsBuilder()
    const products = b.globalTable('products', strings)
    b.stream('orders', strings).join(products, productOf, pair).to('out', strings)
    const plan = planTopology(b.build(), 'app')
    assert.equal(plan.subtopologies.length, 1)
    assert.deepEqual(plan.subtopologies[0]!.sourceTopics, ['orders'])
    assert.equal(plan.changelogTopics.size, 0)
    assert.deepEqual([...plan.globalStores.keys()], ['products-STATE-STORE-0000000001'])
    assert.equal(plan.globalStores.get('products-STATE-STORE-0000000001')!.topic, 'products')
  })

  test('join: each record looks up the key its mapper computes; no result without one', async () => {
    const { d, orders, products, out } = driver('join')
    try {
      await orders.pipeInput('ann', 'apple:1', 1) // no product yet
      await products.pipeInput('apple', 'Apple', 2)
      await orders.pipeInput('ann', 'apple:2', 3)
      await orders.pipeInput(null as unknown as string, 'apple:3', 4) // no stream key: the mapper still finds one
      await orders.pipeInput('bob', 'nothing', 5) // the mapper returns null: dropped
      await products.pipeInput('apple', null as unknown as string, 6) // deleted
      await orders.pipeInput('ann', 'apple:4', 7)
      assert.deepEqual(out(), [
        ['ann', 'apple:2/Apple', 3],
        [null, 'apple:3/Apple', 4]
      ])
      assert.equal(d.getKeyValueStore<string, string>('products').get('apple'), null)
    } finally {
      await d.close()
    }
  })

  test('leftJoin: every record with a value gives a result, null when the table has nothing', async () => {
    const { d, orders, products, out } = driver('leftJoin')
    try {
      await orders.pipeInput('ann', 'apple:1', 1)
      await products.pipeInput('apple', 'Apple', 2)
      await orders.pipeInput('ann', 'apple:2', 3)
      await orders.pipeInput('bob', 'nothing', 5)
      await orders.pipeInput('bob', null as unknown as string, 6) // no value: dropped
      assert.deepEqual(out(), [
        ['ann', 'apple:1/null', 1],
        ['ann', 'apple:2/Apple', 3],
        ['bob', 'nothing/null', 5]
      ])
    } finally {
      await d.close()
    }
  })
})
