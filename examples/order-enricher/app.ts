/**
 * Enriches orders with the customer's tier from a customer service. Each lookup is a network call (simulated here
 * with CUSTOMER_LOOKUP_MS of latency), so an instance spends its time waiting, not computing: the kind of app where
 * more instances mean proportionally more throughput, and where the autoscaler earns its keep.
 *
 *   streamlane run examples/order-enricher/app.ts
 */
import { setTimeout as delay } from 'node:timers/promises'
import { z } from 'zod'
import { defineApp, type ProcessorContext, Serdes, StreamsBuilder, type Topology } from '../../src/index.ts'

export const Order = z.object({ id: z.string(), customer: z.string(), amount: z.number() })
export const EnrichedOrder = Order.extend({ tier: z.enum(['gold', 'silver', 'basic']) })
export type Order = z.infer<typeof Order>
export type EnrichedOrder = z.infer<typeof EnrichedOrder>

export const topics = {
  orders: process.env.ORDERS_TOPIC ?? 'orders',
  enriched: process.env.ENRICHED_ORDERS_TOPIC ?? 'orders-enriched'
}

/** Stands in for a remote customer service: answers after `latencyMs`. */
export function customerService(latencyMs: number) {
  return {
    async tierOf(customer: string): Promise<EnrichedOrder['tier']> {
      if (latencyMs > 0) await delay(latencyMs)
      const n = [...customer].reduce((sum, c) => sum + c.charCodeAt(0), 0)
      return n % 10 === 0 ? 'gold' : n % 3 === 0 ? 'silver' : 'basic'
    }
  }
}

export function orderEnricher(service = customerService(Number(process.env.CUSTOMER_LOOKUP_MS ?? 2))): Topology {
  const builder = new StreamsBuilder()
  builder
    .stream(topics.orders, { keySerde: Serdes.string(), valueSerde: Serdes.jsonSchema(Order) })
    .process<string, EnrichedOrder>(() => {
      let context: ProcessorContext<string, EnrichedOrder>
      return {
        init(ctx) {
          context = ctx
        },
        async process(record) {
          const tier = await service.tierOf(record.value.customer)
          await context.forward({ ...record, value: { ...record.value, tier } })
        }
      }
    })
    .to(topics.enriched, { keySerde: Serdes.string(), valueSerde: Serdes.jsonSchema(EnrichedOrder) })
  return builder.build()
}

export default defineApp({ topology: () => orderEnricher(), config: { applicationId: 'order-enricher' } })
