/**
 * Routes orders: malformed ones go to a dead-letter topic with the error in its headers, valid ones are split into
 * large and regular orders, and regular orders are re-keyed by customer (through a repartition topic) so a
 * downstream consumer sees each customer's orders in order on one partition.
 *
 *   streamlane run examples/order-router/app.ts     (KAFKA_BROKERS, topics from the env or the defaults below)
 */
import { z } from 'zod'
import { defineApp, ErrorHandlers, Serdes, StreamsBuilder, type Topology } from '../../src/index.ts'

export const Order = z.object({ id: z.string(), customer: z.string(), amount: z.number().positive() })
export type Order = z.infer<typeof Order>

export const topics = {
  orders: process.env.ORDERS_TOPIC ?? 'orders',
  large: process.env.LARGE_ORDERS_TOPIC ?? 'orders-large',
  byCustomer: process.env.ORDERS_BY_CUSTOMER_TOPIC ?? 'orders-by-customer',
  deadLetter: process.env.ORDERS_DLQ_TOPIC ?? 'orders-dlq'
}

export const LARGE_ORDER = 1_000

export function orderRouter(): Topology {
  const builder = new StreamsBuilder()
  const orderSerde = Serdes.jsonSchema(Order)
  const { large, regular } = builder
    .stream(topics.orders, { keySerde: Serdes.string(), valueSerde: orderSerde })
    .split()
    .branch((_, order) => order.amount >= LARGE_ORDER, 'large')
    .defaultBranch('regular')
  large!.to(topics.large, { keySerde: Serdes.string(), valueSerde: orderSerde })
  regular!
    .selectKey((_, order) => order.customer)
    .repartition({ name: 'orders-by-customer', keySerde: Serdes.string(), valueSerde: orderSerde })
    .to(topics.byCustomer, { keySerde: Serdes.string(), valueSerde: orderSerde })
  return builder.build()
}

export default defineApp({
  topology: orderRouter,
  config: { applicationId: 'order-router' },
  errorHandlers: { deserialization: ErrorHandlers.deadLetter(topics.deadLetter) }
})
