/**
 * A foreign-key table join through the real runtime on the broker: orders (3 partitions, keyed by order id, value
 * "customer:item") joined to customers (2 partitions) by the customer in the order. The two tables are not
 * co-partitioned: subscriptions go to the customers' partitions through the subscription topic, answers come back to
 * the orders' partitions through the response topic. Updates, a foreign-key change and deletes on both sides end in
 * the expected table.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { committedInput, createTopics, readTopic } from './support.ts'

const str = Serdes.string()
const strings = { keySerde: str, valueSerde: str }

test('a foreign-key join across two tables of different partition counts, through its internal topics', async () => {
  const [customers, orders, out] = ['customers', 'orders', 'orders-with-customer'].map(uniqueName) as [
    string,
    string,
    string
  ]
  await createTopics([
    { name: customers, partitions: 2 },
    { name: orders, partitions: 3 },
    { name: out, partitions: 3 }
  ])
  const builder = new StreamsBuilder()
  builder
    .table(orders, strings)
    .join(
      builder.table(customers, strings),
      (order) => order.split(':')[0]!,
      (order, customer) => `${order}@${customer}`,
      { name: 'order-customer' }
    )
    .toStream()
    .to(out, strings)

  const applicationId = uniqueName('fk-join')
  const app = new StreamlaneApp(builder.build(), {
    applicationId,
    bootstrapServers: testBrokers(),
    commitIntervalMs: 200
  })
  const producer = createProducer({ brokers: testBrokers() })
  const admin = createAdmin({ brokers: testBrokers() })
  const send = (topic: string, rows: [string, string | null][]) =>
    producer.send(
      rows.map(([key, value]) => ({ topic, key: Buffer.from(key), value: value === null ? null : Buffer.from(value) }))
    )
  /** The output read as a table: the last value per key (null: deleted). */
  const table = async (until: (t: Map<string, string | null>) => boolean) => {
    let last = new Map<string, string | null>()
    await readTopic(out, 3, (records) => {
      last = new Map(records.map((r) => [r.key!.toString(), r.value === null ? null : r.value.toString()]))
      return until(last)
    })
    return last
  }
  try {
    await app.start()
    await send(customers, [
      ['ann', 'Ann'],
      ['bob', 'Bob'],
      ['cy', 'Cy']
    ])
    await waitFor('the customers loaded', async () => (await committedInput(admin, applicationId, customers)) === 3)
    await send(orders, [
      ['o1', 'ann:apple'],
      ['o2', 'bob:pear'],
      ['o3', 'cy:fig'],
      ['o4', 'dee:kiwi'], // no such customer: no result
      ['o5', 'ann:plum']
    ])
    const first = await table((t) => t.size === 4)
    assert.deepEqual(Object.fromEntries(first), {
      o1: 'ann:apple@Ann',
      o2: 'bob:pear@Bob',
      o3: 'cy:fig@Cy',
      o5: 'ann:plum@Ann'
    })

    await send(orders, [
      ['o2', 'cy:pear'], // foreign key changes from bob to cy
      ['o3', null] // deleted
    ])
    await send(customers, [
      ['ann', 'Ann2'], // both of ann's orders change
      ['bob', 'Bob2'], // no order names bob any more: nothing
      ['dee', 'Dee'] // o4 now joins
    ])
    const expected = { o1: 'ann:apple@Ann2', o2: 'cy:pear@Cy', o3: null, o4: 'dee:kiwi@Dee', o5: 'ann:plum@Ann2' }
    const final = await table((t) => JSON.stringify(Object.fromEntries([...t].sort())) === JSON.stringify(expected))
    assert.deepEqual(Object.fromEntries([...final].sort()), expected)

    // The internal topics are named as Kafka Streams names them and partitioned as the side that reads them.
    const subscriptions = `${applicationId}-order-customer-subscription-registration-topic`
    const responses = `${applicationId}-order-customer-subscription-response-topic`
    const offsets = await admin.listOffsets([{ topic: subscriptions }, { topic: responses }], 'latest')
    // By name: the answer's order is not the request's.
    assert.equal(offsets.get(subscriptions)?.size, 2)
    assert.equal(offsets.get(responses)?.size, 3)
  } finally {
    await producer.close()
    await admin.close()
    await app.close()
  }
})
