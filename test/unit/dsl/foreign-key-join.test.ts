import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'
import { planTopology } from '../../../src/topology/index.ts'

const str = Serdes.string()
const strings = { keySerde: str, valueSerde: str }
/** Orders "customer:item" keyed by order id, joined to customers by the customer before the colon. */
const customerOf = (order: string): string | null => (order.includes(':') ? order.split(':')[0]! : null)
const pair = (order: string, customer: string | null) => `${order}/${customer}`

function build(kind: 'join' | 'leftJoin', name?: string) {
  const b = new StreamsBuilder()
  const orders = b.table('orders', strings)
  const customers = b.table('customers', strings)
  const joined =
    kind === 'join'
      ? orders.join(customers, customerOf, pair, name === undefined ? {} : { name })
      : orders.leftJoin(customers, customerOf, pair, name === undefined ? {} : { name })
  joined.toStream().to('out', strings)
  return b.build()
}

function driver(kind: 'join' | 'leftJoin') {
  const d = new TopologyTestDriver(build(kind), { applicationId: 'app', cacheMaxBytes: 0 })
  return {
    d,
    orders: d.createInputTopic('orders', str, str),
    customers: d.createInputTopic('customers', str, str),
    out: () =>
      d
        .createOutputTopic('out', str, str)
        .readRecordsToList()
        .map((r) => [r.key, r.value, r.timestamp])
  }
}

describe('foreign-key table joins', () => {
  test('internal topics and store are named as in Kafka Streams, generated or from TableJoined.name', () => {
    const plan = planTopology(build('join'), 'app')
    assert.deepEqual(
      [...plan.repartitionTopics.keys()],
      [
        'app-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic',
        'app-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic'
      ]
    )
    assert.ok(plan.changelogTopics.has('app-KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000010-changelog'))
    const named = planTopology(build('leftJoin', 'by-customer'), 'app')
    assert.deepEqual(
      [...named.repartitionTopics.keys()],
      ['app-by-customer-subscription-registration-topic', 'app-by-customer-subscription-response-topic']
    )
    assert.ok(named.changelogTopics.has('app-by-customer-subscription-store-changelog'))
    assert.equal(named.subtopologies.length, 2)
  })

  test('join: updates on both sides, a foreign-key change, deletes on both sides', async () => {
    const { d, orders, customers, out } = driver('join')
    try {
      await orders.pipeInput('o1', 'c1:apple', 1) // no customer yet: nothing
      await customers.pipeInput('c1', 'ann', 2)
      await customers.pipeInput('c2', 'bob', 3)
      await orders.pipeInput('o1', 'c1:pear', 4) // same foreign key, new value
      await orders.pipeInput('o1', 'c2:pear', 5) // foreign key changes
      await customers.pipeInput('c1', 'ann2', 6) // no longer subscribed by o1: nothing
      await customers.pipeInput('c2', 'bob2', 7)
      await customers.pipeInput('c2', null as unknown as string, 8) // right delete: result deleted
      await customers.pipeInput('c2', 'bob3', 9)
      await orders.pipeInput('o1', null as unknown as string, 10) // left delete: result deleted
      await customers.pipeInput('c2', 'bob4', 11) // unsubscribed: nothing
      assert.deepEqual(out(), [
        ['o1', 'c1:apple/ann', 2],
        ['o1', 'c1:pear/ann', 4],
        ['o1', 'c2:pear/bob', 5],
        ['o1', 'c2:pear/bob2', 7],
        ['o1', null, 8],
        ['o1', 'c2:pear/bob3', 9],
        ['o1', null, 10]
      ])
    } finally {
      await d.close()
    }
  })

  test('leftJoin: every left value has a result, null for a missing or absent foreign key', async () => {
    const { d, orders, customers, out } = driver('leftJoin')
    try {
      await orders.pipeInput('o1', 'c1:apple', 1)
      await customers.pipeInput('c1', 'ann', 2)
      await orders.pipeInput('o1', 'no-customer', 3) // null foreign key
      await orders.pipeInput('o1', 'c9:fig', 4) // a customer that does not exist
      await orders.pipeInput('o1', null as unknown as string, 5)
      assert.deepEqual(out(), [
        ['o1', 'c1:apple/null', 1],
        ['o1', 'c1:apple/ann', 2],
        ['o1', 'no-customer/null', 3],
        ['o1', 'c9:fig/null', 4],
        ['o1', null, 5]
      ])
    } finally {
      await d.close()
    }
  })

  test('a response for a left value replaced since is dropped (hash mismatch)', async () => {
    const b = new StreamsBuilder()
    const orders = b.table('orders', strings)
    const customers = b.table('customers', strings)
    orders.join(customers, customerOf, pair).toStream().to('out', strings)
    const d = new TopologyTestDriver(b.build(), { applicationId: 'app', cacheMaxBytes: 0 })
    try {
      const input = d.createInputTopic('orders', str, str)
      await d.createInputTopic('customers', str, str).pipeInput('c1', 'ann', 1)
      await input.pipeInput('o1', 'c1:apple', 2)
      // Replays the first response after the left value changed: it must not bring the old value back.
      const responses = d.createOutputTopic(
        'app-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic',
        Serdes.bytes(),
        Serdes.bytes()
      )
      const first = responses.readRecord()
      await input.pipeInput('o1', 'c1:pear', 3)
      const out = d.createOutputTopic('out', str, str)
      assert.deepEqual(out.readValuesToList(), ['c1:apple/ann', 'c1:pear/ann'])
      const response = d.createInputTopic(
        'app-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic',
        Serdes.bytes(),
        Serdes.bytes()
      )
      await response.pipeInput(first.key as Buffer, first.value as Buffer, 4)
      assert.deepEqual(out.readValuesToList(), [])
    } finally {
      await d.close()
    }
  })
})
