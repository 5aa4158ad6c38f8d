import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ERROR_HEADERS, ErrorHandlers, Serdes } from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'
import { Order, orderRouter, topics } from './app.ts'

function driver() {
  return new TopologyTestDriver(orderRouter(), {
    applicationId: 'order-router-test',
    errorHandlers: { deserialization: ErrorHandlers.deadLetter(topics.deadLetter) }
  })
}

test('large orders are split off and regular orders are re-keyed by customer', async () => {
  const d = driver()
  const input = d.createInputTopic(topics.orders, Serdes.string(), Serdes.jsonSchema(Order))
  await input.pipeInput('o1', { id: 'o1', customer: 'ada', amount: 25 })
  await input.pipeInput('o2', { id: 'o2', customer: 'bob', amount: 5_000 })
  await input.pipeInput('o3', { id: 'o3', customer: 'ada', amount: 10 })

  const large = d.createOutputTopic(topics.large, Serdes.string(), Serdes.jsonSchema(Order))
  assert.deepEqual(large.readKeyValuesToList(), [{ key: 'o2', value: { id: 'o2', customer: 'bob', amount: 5_000 } }])
  const byCustomer = d.createOutputTopic(topics.byCustomer, Serdes.string(), Serdes.jsonSchema(Order))
  assert.deepEqual(
    byCustomer.readKeyValuesToList().map(({ key, value }) => [key, value.id]),
    [
      ['ada', 'o1'],
      ['ada', 'o3']
    ]
  )
})

test('a malformed order goes to the dead-letter topic with its bytes and the error, and processing goes on', async () => {
  const d = driver()
  const raw = d.createInputTopic(topics.orders, Serdes.string(), Serdes.string())
  await raw.pipeInput('bad', '{"id":"bad","customer":"ada","amount":-3}')
  await raw.pipeInput('o4', '{"id":"o4","customer":"cy","amount":7}')

  const dlq = d.createOutputTopic(topics.deadLetter, Serdes.string(), Serdes.string())
  const [dead] = dlq.readRecordsToList()
  assert.equal(dead?.value, '{"id":"bad","customer":"ada","amount":-3}')
  assert.equal(dead?.headers.get(ERROR_HEADERS.stage)?.toString(), 'deserialization')
  assert.equal(dead?.headers.get(ERROR_HEADERS.topic)?.toString(), topics.orders)
  assert.equal(dead?.headers.get(ERROR_HEADERS.offset)?.toString(), '0')
  const byCustomer = d.createOutputTopic(topics.byCustomer, Serdes.string(), Serdes.jsonSchema(Order))
  assert.deepEqual(byCustomer.readKeyValuesToList(), [{ key: 'cy', value: { id: 'o4', customer: 'cy', amount: 7 } }])
})
