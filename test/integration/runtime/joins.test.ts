/**
 * Joins through the real runtime on the broker: orders (2 partitions) enriched with a customers table (2 partitions)
 * by a stream-table left join, and matched with payments (2 partitions) by a windowed stream-stream join. The
 * customers are loaded (their offsets committed) before any order is written, so every order finds the customer
 * current at its time; orders and payments join whichever arrives first (a grace period longer than the input's
 * time span keeps every record joinable whatever order the two topics are read in).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { JoinWindows, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { committedInput, createTopics, readTopic } from './support.ts'

const str = Serdes.string()
const strings = { keySerde: str, valueSerde: str }

test('a stream-table join and a stream-stream join through the runtime give the expected records', async () => {
  const [customers, orders, payments, enriched, paid] = ['customers', 'orders', 'payments', 'enriched', 'paid'].map(
    (name) => uniqueName(name)
  ) as [string, string, string, string, string]
  await createTopics([customers, orders, payments, enriched, paid].map((name) => ({ name, partitions: 2 })))

  const builder = new StreamsBuilder()
  const customerTable = builder.table(customers, strings)
  const orderStream = builder.stream(orders, strings)
  orderStream.leftJoin(customerTable, (order, customer) => `${order}@${customer}`).to(enriched, strings)
  orderStream
    .join(
      builder.stream(payments, strings),
      (order, payment) => `${order}+${payment}`,
      // Grace covers the whole input's time span: the two topics may be read in any order relative to each other.
      JoinWindows.ofTimeDifferenceAndGrace(6_000, 600_000)
    )
    .to(paid, strings)

  const applicationId = uniqueName('joins')
  const app = new StreamlaneApp(builder.build(), {
    applicationId,
    bootstrapServers: testBrokers(),
    commitIntervalMs: 200
  })
  const producer = createProducer({ brokers: testBrokers() })
  const admin = createAdmin({ brokers: testBrokers() })
  const send = (topic: string, rows: [string, string, number][]) =>
    producer.send(
      rows.map(([key, value, timestamp]) => ({ topic, key: Buffer.from(key), value: Buffer.from(value), timestamp }))
    )
  const t0 = Date.now() - 600_000
  try {
    await app.start()
    const customerRows: [string, string, number][] = ['ann', 'bob', 'cy', 'dee'].map((c, i) => [c, `${c}-v1`, t0 + i])
    await send(customers, customerRows)
    await waitFor(
      'the customers table loaded',
      async () => (await committedInput(admin, applicationId, customers)) === 4
    )

    const orderRows: [string, string, number][] = []
    const paymentRows: [string, string, number][] = []
    const expectedEnriched: string[] = []
    const expectedPaid: string[] = []
    for (const [i, customer] of ['ann', 'bob', 'cy', 'dee', 'eve', 'ann'].entries()) {
      const time = t0 + 20_000 * (i + 1)
      orderRows.push([customer, `o${i}`, time])
      expectedEnriched.push(`${customer}=o${i}@${customer === 'eve' ? 'null' : `${customer}-v1`}`)
      if (i % 2 === 0) {
        paymentRows.push([customer, `p${i}`, time + 5_000])
        expectedPaid.push(`${customer}=o${i}+p${i}`)
      }
    }
    // A payment far outside every order's window joins nothing.
    paymentRows.push(['bob', 'p-late', t0 + 400_000])
    await send(orders, orderRows)
    await send(payments, paymentRows)

    const read = async (topic: string, count: number) =>
      (await readTopic(topic, 2, (r) => r.length >= count)).map((r) => `${r.key}=${r.value}`).sort()
    assert.deepEqual(await read(enriched, expectedEnriched.length), expectedEnriched.sort())
    assert.deepEqual(await read(paid, expectedPaid.length), expectedPaid.sort())
    // Everything consumed and committed, nothing more was written (no extra join results).
    await waitFor(
      'orders and payments committed',
      async () =>
        (await committedInput(admin, applicationId, orders)) === orderRows.length &&
        (await committedInput(admin, applicationId, payments)) === paymentRows.length
    )
    assert.equal((await read(enriched, expectedEnriched.length)).length, expectedEnriched.length)
    assert.equal((await read(paid, expectedPaid.length)).length, expectedPaid.length)
  } finally {
    await producer.close()
    await admin.close()
    await app.close()
  }
})
