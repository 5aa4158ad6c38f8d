/**
 * Issue 18's acceptance on the broker: the order-enrichment example (examples/order-enrichment: orders joined to a
 * GlobalKTable of products, a customers table through a repartition topic, and payments within 10 minutes) run by 3
 * instances as OS processes, one of them SIGKILLed and restarted while orders flow. Under exactly-once the committed
 * output is exactly the expected paid orders, once each; under at-least-once it holds every one of them (replays may
 * repeat some).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  type Customer,
  type Order,
  PAYMENT_WINDOW_MS,
  type PaidOrder,
  type Payment,
  type Product
} from '../../../examples/order-enrichment/app.ts'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { AppInstance, killAll } from './instances.ts'
import { readToEnd } from './standby-support.ts'
import { committedInput, createTopics, readTopic, topicEnd } from './support.ts'

const app = fileURLToPath(new URL('../../../examples/order-enrichment/app.ts', import.meta.url))
const PARTITIONS = 3
const ORDERS = 240
const BATCHES = 3
const TIERS = ['gold', 'silver', 'basic'] as const

interface Data {
  products: [string, Product][]
  customers: [string, Customer][]
  orders: { order: Order; at: number }[]
  payments: { order: string; payment: Payment; at: number }[]
  expected: Map<string, PaidOrder>
}

/** Products and customers, orders over a few minutes, and their payments: every 8th one 11 minutes off. */
function testData(start: number): Data {
  const products: [string, Product][] = Array.from({ length: 7 }, (_, i) => [
    `p${i}`,
    { name: `Product ${i}`, priceCents: 100 * (i + 1) }
  ])
  const customers: [string, Customer][] = Array.from({ length: 17 }, (_, i) => [
    `c${i}`,
    { name: `Customer ${i}`, tier: TIERS[i % 3]! }
  ])
  const orders: Data['orders'] = []
  const payments: Data['payments'] = []
  const expected = new Map<string, PaidOrder>()
  for (let i = 0; i < ORDERS; i++) {
    const at = start + i * 1_000
    const order: Order = { id: `o${i}`, customer: `c${i % 17}`, product: `p${i % 7}`, quantity: 1 + (i % 4) }
    orders.push({ order, at })
    const late = i % 8 === 7
    const payment = { amountCents: 1 + i }
    // Paid up to 5 minutes after the order; unpaid ones 11 minutes before it, so that they do not move stream time
    // ahead of the orders (which reach the join two repartition topics after their payments, and would be late).
    payments.push({ order: order.id, payment, at: late ? at - PAYMENT_WINDOW_MS - 60_000 : at + (i % 6) * 60_000 })
    if (late) continue
    const product = products[i % 7]![1]
    const customer = customers[i % 17]![1]
    expected.set(order.id, {
      ...order,
      customerName: customer.name,
      tier: customer.tier,
      productName: product.name,
      totalCents: product.priceCents * order.quantity,
      paidCents: payment.amountCents
    })
  }
  return { products, customers, orders, payments, expected }
}

for (const guarantee of ['exactly_once_v2', 'at_least_once'] as const) {
  test(`${guarantee}: 3 instances, one SIGKILLed and restarted, enrich every paid order ${guarantee === 'exactly_once_v2' ? 'exactly once' : 'at least once'}`, async () => {
    const names = ['orders', 'customers', 'products', 'payments', 'paid'].map((n) => uniqueName(`oe-${n}`))
    const [orders, customers, products, payments, paid] = names as [string, string, string, string, string]
    await createTopics(names.map((name) => ({ name, partitions: PARTITIONS })))
    const appId = uniqueName('order-enrichment')
    const data = testData(Date.now() - 60 * 60_000)
    const producer = createProducer({ brokers: testBrokers() })
    const json = (value: unknown) => Buffer.from(JSON.stringify(value))
    const admin = createAdmin({ brokers: testBrokers() })
    const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), 'streamlane-order-enrichment-')))
    const instances: AppInstance[] = []
    const start = (slot: number) => {
      const instance = new AppInstance(`order-enrichment-${slot}`, app, {
        STREAMLANE_APPLICATION_ID: appId,
        STREAMLANE_STATE_DIR: dirs[slot]!,
        STREAMLANE_PROCESSING_GUARANTEE: guarantee,
        STREAMLANE_COMMIT_INTERVAL_MS: '200',
        // Static: the restarted instance takes the killed one's place (and, under exactly-once, fences its producer).
        STREAMLANE_GROUP_INSTANCE_ID: `${appId}-${slot}`,
        STREAMLANE_SESSION_TIMEOUT_MS: '10000',
        STREAMLANE_HEARTBEAT_INTERVAL_MS: '1000',
        ORDERS_TOPIC: orders,
        CUSTOMERS_TOPIC: customers,
        PRODUCTS_TOPIC: products,
        PAYMENTS_TOPIC: payments,
        PAID_ORDERS_TOPIC: paid
      })
      instances.push(instance)
      return instance
    }
    try {
      // Reference data first, timestamped before every order: each order finds its product and customer.
      await producer.send([
        ...data.products.map(([id, p]) => ({ topic: products, key: Buffer.from(id), value: json(p), timestamp: 0 })),
        ...data.customers.map(([id, c]) => ({ topic: customers, key: Buffer.from(id), value: json(c), timestamp: 0 }))
      ])
      const running = [0, 1, 2].map(start)
      await waitFor(
        'the customers table is loaded',
        async () => (await committedInput(admin, appId, customers)) >= data.customers.length,
        { timeoutMs: 90_000 }
      )

      const perBatch = ORDERS / BATCHES
      const sendBatch = (b: number) => {
        const slice = (i: number) => i >= b * perBatch && i < (b + 1) * perBatch
        return producer.send([
          ...data.orders
            .filter((_o, i) => slice(i))
            .map(({ order, at }) => ({ topic: orders, key: Buffer.from(order.id), value: json(order), timestamp: at })),
          ...data.payments
            .filter((_p, i) => slice(i))
            .map(({ order, payment, at }) => ({
              topic: payments,
              key: Buffer.from(order),
              value: json(payment),
              timestamp: at
            }))
        ])
      }
      await sendBatch(0)
      await waitFor('some paid orders written', async () => (await topicEnd(admin, paid)) >= 20, {
        timeoutMs: 90_000
      })
      // SIGKILL one instance while the second batch comes in, then start it again in its place.
      const victim = running[1]!
      const writes = sendBatch(1)
      victim.signal('SIGKILL')
      await victim.exited
      await writes
      start(1)
      await sendBatch(2)

      const expectedKeys = [...data.expected.keys()].sort()
      const records = await readTopic(
        paid,
        PARTITIONS,
        (read) => new Set(read.map((r) => r.key!.toString())).size >= data.expected.size,
        180_000
      )
      const outputs = records.map((r) => [r.key!.toString(), JSON.parse(r.value!.toString()) as PaidOrder] as const)
      assert.deepEqual([...new Set(outputs.map(([key]) => key))].sort(), expectedKeys, 'every paid order, and no other')
      for (const [key, value] of outputs) assert.deepEqual(value, data.expected.get(key), `paid order ${key}`)
      if (guarantee === 'exactly_once_v2') {
        // Committed input and read_committed output: whatever came after the paid orders would be a duplicate.
        await waitFor(
          'every order and payment committed',
          async () => {
            const [o, p] = await Promise.all([
              committedInput(admin, appId, orders),
              committedInput(admin, appId, payments)
            ])
            return o === ORDERS && p === ORDERS
          },
          { timeoutMs: 90_000 }
        )
        const all = await readToEnd(admin, paid)
        assert.equal(all.length, data.expected.size, 'no paid order twice')
      }
      console.log(
        `${guarantee}: ${ORDERS} orders, ${data.expected.size} paid in time, ${records.length} outputs read, ` +
          `${await topicEnd(admin, paid)} output offsets written (aborted and replayed included)`
      )
    } finally {
      await killAll(instances)
      await producer.close()
      await admin.close()
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    }
  })
}
