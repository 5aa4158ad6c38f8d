/**
 * A GlobalKTable through the real runtime on the broker: two instances of one app each own one of the two orders
 * partitions and join their orders with a products global table read from all 3 partitions of its topic. Products
 * written before the start are there before the first order is processed (bootstrap); a product updated while the
 * apps run reaches both instances.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import { murmur2Partition } from '../../../src/kafka/index.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, readTopic } from './support.ts'

const str = Serdes.string()
const strings = { keySerde: str, valueSerde: str }

test('a global table is bootstrapped before processing and kept updated, whole in each of two instances', async () => {
  const [products, orders, out] = ['products', 'orders', 'orders-with-product'].map((n) => uniqueName(n)) as [
    string,
    string,
    string
  ]
  await createTopics([
    { name: products, partitions: 3 },
    { name: orders, partitions: 2 },
    { name: out, partitions: 2 }
  ])
  const producer = createProducer({ brokers: testBrokers() })
  const send = (topic: string, rows: [string, string][]) =>
    producer.send(rows.map(([key, value]) => ({ topic, key: Buffer.from(key), value: Buffer.from(value) })))
  const productNames = ['apple', 'pear', 'fig', 'kiwi', 'plum', 'lime']
  await send(
    products,
    productNames.map((p) => [p, `${p}-v1`])
  )

  const build = () => {
    const builder = new StreamsBuilder()
    const table = builder.globalTable(products, strings)
    builder
      .stream(orders, strings)
      .leftJoin(
        table,
        (_customer, order) => order.split(':')[0]!,
        (order, product) => `${order}@${product}`
      )
      .to(out, strings)
    return builder.build()
  }
  const applicationId = uniqueName('global-table')
  const apps = [0, 1].map(
    () => new StreamlaneApp(build(), { applicationId, bootstrapServers: testBrokers(), commitIntervalMs: 200 })
  )
  // A customer key for each orders partition.
  const customerOn = (partition: number) => {
    for (let i = 0; ; i++) if (murmur2Partition(Buffer.from(`c${i}`), 2) === partition) return `c${i}`
  }
  const customers = [customerOn(0), customerOn(1)]
  try {
    await Promise.all(apps.map((app) => app.start()))
    await waitFor('each instance owns one task', () => apps.every((app) => app.activeTasks().length === 1), {
      timeoutMs: 60_000
    })

    // Every product from each instance: the instances read all 3 partitions of the products topic.
    const rows: [string, string][] = []
    for (const customer of customers) for (const p of productNames) rows.push([customer, `${p}:1`])
    await send(orders, rows)
    const joined = await readTopic(out, 2, (records) => records.length >= rows.length)
    assert.deepEqual(
      joined.map((r) => `${r.partition}/${r.key}=${r.value}`).sort(),
      rows
        .map(([customer, order]) => {
          const partition = customers.indexOf(customer)
          return `${partition}/${customer}=${order}@${order.split(':')[0]}-v1`
        })
        .sort()
    )

    // An update while running reaches both instances: probe orders on both partitions until both show it.
    await send(products, [['fig', 'fig-v2']])
    // A send still in flight when the test ends may fail as the producer closes: that probe is not needed.
    const probe = () =>
      send(
        orders,
        customers.map((c): [string, string] => [c, 'fig:2'])
      ).catch(() => {})
    const probes = setInterval(() => void probe(), 300)
    try {
      const updated = await readTopic(out, 2, (records) => {
        const partitions = new Set(
          records.filter((r) => r.value?.toString() === 'fig:2@fig-v2').map((r) => r.partition)
        )
        return partitions.size === 2
      })
      // Before the update, probes saw the old value or the new one; never nothing (the table stays whole).
      for (const r of updated.filter((r) => r.value?.toString().startsWith('fig:2@'))) {
        assert.match(r.value!.toString(), /^fig:2@fig-v[12]$/)
      }
    } finally {
      clearInterval(probes)
    }
  } finally {
    await producer.close()
    await Promise.all(apps.map((app) => app.close()))
  }
})
