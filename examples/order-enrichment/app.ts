/**
 * Enriches orders with their product and customer, and matches each with its payment: joins, end to end.
 *
 *   orders ──join GlobalKTable products (by the order's product)──► selectKey(customer) ──► repartition
 *          ──join KTable customers──► selectKey(order id) ──► repartition ──join payments (within 10 minutes)──► paid
 *
 * - `products` is a GlobalKTable: every instance holds all of it, so orders look products up by any key without
 *   repartitioning (`<topic>` read whole at start, then followed).
 * - `customers` is a KTable, partitioned like its topic: orders are re-keyed by customer and go through
 *   `order-enrichment-orders-by-customer-repartition` to the task that holds their customer.
 * - Payments arrive keyed by order id; an order and its payment meet when their timestamps are at most 10 minutes
 *   apart (a stream-stream join; both sides wait in changelogged window stores). An order never paid in time gives
 *   no output.
 *
 *   streamlane run examples/order-enrichment/app.ts     (KAFKA_BROKERS; topics from the env or the defaults below)
 *
 * Output: `paid-orders`, key the order id, value a JSON `PaidOrder`.
 */
import { z } from 'zod'
import { defineApp, JoinWindows, Materialized, Serdes, StreamsBuilder, type Topology } from '../../src/index.ts'

export const Order = z.object({ id: z.string(), customer: z.string(), product: z.string(), quantity: z.number() })
export const Customer = z.object({ name: z.string(), tier: z.enum(['gold', 'silver', 'basic']) })
export const Product = z.object({ name: z.string(), priceCents: z.number() })
export const Payment = z.object({ amountCents: z.number() })
export const PaidOrder = z.object({
  id: z.string(),
  customer: z.string(),
  customerName: z.string(),
  tier: Customer.shape.tier,
  product: z.string(),
  productName: z.string(),
  quantity: z.number(),
  totalCents: z.number(),
  paidCents: z.number()
})
export type Order = z.infer<typeof Order>
export type Customer = z.infer<typeof Customer>
export type Product = z.infer<typeof Product>
export type Payment = z.infer<typeof Payment>
export type PaidOrder = z.infer<typeof PaidOrder>

export const topics = {
  orders: process.env.ORDERS_TOPIC ?? 'orders',
  customers: process.env.CUSTOMERS_TOPIC ?? 'customers',
  products: process.env.PRODUCTS_TOPIC ?? 'products',
  payments: process.env.PAYMENTS_TOPIC ?? 'payments',
  paid: process.env.PAID_ORDERS_TOPIC ?? 'paid-orders'
}

/** How far apart an order and its payment may be. */
export const PAYMENT_WINDOW_MS = 10 * 60_000

const str = Serdes.string()

/** An order with its product, before its customer is known. */
type PricedOrder = Order & { productName: string; totalCents: number }
const PricedOrder = Order.extend({ productName: z.string(), totalCents: z.number() })
type CustomerOrder = Omit<PaidOrder, 'paidCents'>
const CustomerOrder = PaidOrder.omit({ paidCents: true })

export function orderEnrichment(): Topology {
  const builder = new StreamsBuilder()
  const products = builder.globalTable(
    topics.products,
    { keySerde: str, valueSerde: Serdes.jsonSchema(Product) },
    Materialized.as('products')
  )
  const customers = builder.table(
    topics.customers,
    { keySerde: str, valueSerde: Serdes.jsonSchema(Customer) },
    Materialized.as('customers')
  )
  const payments = builder.stream(topics.payments, { keySerde: str, valueSerde: Serdes.jsonSchema(Payment) })
  builder
    .stream(topics.orders, { keySerde: str, valueSerde: Serdes.jsonSchema(Order) })
    .join(
      products,
      (_id, order) => order.product,
      (order, product): PricedOrder => ({
        ...order,
        productName: product.name,
        totalCents: product.priceCents * order.quantity
      })
    )
    .selectKey((_id, order) => order.customer)
    .join(
      customers,
      (order, customer): CustomerOrder => ({ ...order, customerName: customer.name, tier: customer.tier }),
      { name: 'orders-by-customer', keySerde: str, valueSerde: Serdes.jsonSchema(PricedOrder) }
    )
    .selectKey((_customer, order) => order.id)
    .join(
      payments,
      (order, payment): PaidOrder => ({ ...order, paidCents: payment.amountCents }),
      JoinWindows.ofTimeDifferenceAndGrace(PAYMENT_WINDOW_MS, 60_000),
      {
        name: 'orders-with-payments',
        storeName: 'payments-join',
        keySerde: str,
        valueSerde: Serdes.jsonSchema(CustomerOrder),
        otherValueSerde: Serdes.jsonSchema(Payment)
      }
    )
    .to(topics.paid, { keySerde: str, valueSerde: Serdes.jsonSchema(PaidOrder) })
  return builder.build()
}

export default defineApp({ topology: orderEnrichment, config: { applicationId: 'order-enrichment' } })
