import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes } from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'
import { customerService, EnrichedOrder, Order, orderEnricher, topics } from './app.ts'

test('every order comes out with its customer tier, in input order', async () => {
  const driver = new TopologyTestDriver(orderEnricher(customerService(1)), { applicationId: 'enricher-test' })
  const input = driver.createInputTopic(topics.orders, Serdes.string(), Serdes.jsonSchema(Order))
  await input.pipeInput('o1', { id: 'o1', customer: 'ada', amount: 3 })
  await input.pipeInput('o2', { id: 'o2', customer: 'bob', amount: 4 })
  const output = driver.createOutputTopic(topics.enriched, Serdes.string(), Serdes.jsonSchema(EnrichedOrder))
  const service = customerService(0)
  assert.deepEqual(output.readKeyValuesToList(), [
    { key: 'o1', value: { id: 'o1', customer: 'ada', amount: 3, tier: await service.tierOf('ada') } },
    { key: 'o2', value: { id: 'o2', customer: 'bob', amount: 4, tier: await service.tierOf('bob') } }
  ])
})
