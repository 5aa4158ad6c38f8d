import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes } from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'
import { Customer, Order, orderEnrichment, PAYMENT_WINDOW_MS, PaidOrder, Payment, Product, topics } from './app.ts'

function driver() {
  const d = new TopologyTestDriver(orderEnrichment(), { applicationId: 'order-enrichment-test' })
  const str = Serdes.string()
  return {
    d,
    products: d.createInputTopic(topics.products, str, Serdes.jsonSchema(Product)),
    customers: d.createInputTopic(topics.customers, str, Serdes.jsonSchema(Customer)),
    orders: d.createInputTopic(topics.orders, str, Serdes.jsonSchema(Order)),
    payments: d.createInputTopic(topics.payments, str, Serdes.jsonSchema(Payment)),
    paid: d.createOutputTopic(topics.paid, str, Serdes.jsonSchema(PaidOrder))
  }
}

test('an order with its product, customer and payment within 10 minutes is written once, enriched', async () => {
  const { d, products, customers, orders, payments, paid } = driver()
  try {
    await products.pipeInput('p1', { name: 'Kettle', priceCents: 2500 }, 0)
    await customers.pipeInput('c1', { name: 'Ann', tier: 'gold' }, 0)
    await orders.pipeInput('o1', { id: 'o1', customer: 'c1', product: 'p1', quantity: 2 }, 1_000)
    assert.equal(paid.isEmpty(), true, 'not paid yet')
    await payments.pipeInput('o1', { amountCents: 5000 }, 1_000 + PAYMENT_WINDOW_MS)
    assert.deepEqual(paid.readKeyValuesToList(), [
      {
        key: 'o1',
        value: {
          id: 'o1',
          customer: 'c1',
          customerName: 'Ann',
          tier: 'gold',
          product: 'p1',
          productName: 'Kettle',
          quantity: 2,
          totalCents: 5000,
          paidCents: 5000
        }
      }
    ])
  } finally {
    await d.close()
  }
})

test('no output for an unknown product or customer, or a payment more than 10 minutes away', async () => {
  const { d, products, customers, orders, payments, paid } = driver()
  try {
    await products.pipeInput('p1', { name: 'Kettle', priceCents: 2500 }, 0)
    await customers.pipeInput('c1', { name: 'Ann', tier: 'gold' }, 0)
    await orders.pipeInput('o1', { id: 'o1', customer: 'c1', product: 'nope', quantity: 1 }, 1_000)
    await orders.pipeInput('o2', { id: 'o2', customer: 'nobody', product: 'p1', quantity: 1 }, 1_000)
    await orders.pipeInput('o3', { id: 'o3', customer: 'c1', product: 'p1', quantity: 1 }, 1_000)
    for (const id of ['o1', 'o2']) await payments.pipeInput(id, { amountCents: 2500 }, 2_000)
    await payments.pipeInput('o3', { amountCents: 2500 }, 1_000 + PAYMENT_WINDOW_MS + 1)
    assert.equal(paid.isEmpty(), true)
    // A customer's later change reaches the orders placed after it.
    await customers.pipeInput('c1', { name: 'Ann', tier: 'silver' }, 3_000)
    await orders.pipeInput('o4', { id: 'o4', customer: 'c1', product: 'p1', quantity: 1 }, 4_000)
    await payments.pipeInput('o4', { amountCents: 2500 }, 3_500)
    assert.deepEqual(
      paid.readValuesToList().map((o) => [o.id, o.tier]),
      [['o4', 'silver']]
    )
  } finally {
    await d.close()
  }
})
