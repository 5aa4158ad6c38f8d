/**
 * `npm run demo`: Streamlane end to end on one machine. Starts a Kafka broker (or uses KAFKA_BROKERS), runs the
 * order-enricher example under the local autoscaler, produces a burst of orders, and shows the autoscaler taking the
 * app from 1 instance up while lag builds and back to 1 once it drains. It ends by checking the output: every order
 * enriched once, none lost, none twice.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { startLocalScaler } from '../src/autoscale/local/local-scaler.ts'
import { createAdmin } from '../src/kafka/admin.ts'
import { createPartitionReader, OFFSET_EARLIEST } from '../src/kafka/partition-reader.ts'
import { createProducer } from '../src/kafka/producer.ts'
import { type Broker, BrokerSetupError, repoRoot, startBroker } from './kafka/broker.ts'

const ORDERS = Number(process.env.DEMO_ORDERS ?? 20_000)
const PARTITIONS = 6
const MAX_INSTANCES = 4
const run = Date.now().toString(36)
const appId = `demo-enricher-${run}`
const ordersTopic = `demo-orders-${run}`
const enrichedTopic = `demo-orders-enriched-${run}`

function say(line: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)
}

async function ensureBroker(): Promise<{ brokers: string[]; broker?: Broker }> {
  if (process.env.KAFKA_BROKERS) return { brokers: process.env.KAFKA_BROKERS.split(',') }
  const dir = join(repoRoot, '.kafka/demo')
  mkdirSync(dir, { recursive: true })
  say('starting a local Kafka broker (Apache Kafka 4.3.1 from Maven Central)...')
  const broker = await startBroker({ dir })
  say(`broker up at ${broker.bootstrap}`)
  return { brokers: [broker.bootstrap], broker }
}

async function produceOrders(brokers: string[]): Promise<void> {
  const producer = createProducer({ brokers })
  const customers = ['ada', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal']
  try {
    for (let start = 0; start < ORDERS; start += 5_000) {
      const batch = []
      for (let i = start; i < Math.min(ORDERS, start + 5_000); i++) {
        const order = { id: `o${i}`, customer: customers[i % customers.length], amount: (i % 97) + 1 }
        batch.push({ topic: ordersTopic, key: Buffer.from(order.id), value: Buffer.from(JSON.stringify(order)) })
      }
      await producer.send(batch)
    }
  } finally {
    await producer.close()
  }
}

async function main(): Promise<void> {
  const { brokers, broker } = await ensureBroker()
  const admin = createAdmin({ brokers })
  let scaler: Awaited<ReturnType<typeof startLocalScaler>> | undefined
  try {
    await admin.createTopics([
      { name: ordersTopic, partitions: PARTITIONS },
      { name: enrichedTopic, partitions: PARTITIONS }
    ])
    const endOf = async (topic: string) => {
      let total = 0n
      for (const offset of (await admin.listOffsets([{ topic }], 'latest')).get(topic)!.values()) total += offset
      return Number(total)
    }

    say(
      `running examples/order-enricher (2 ms customer lookup per order) under the local autoscaler, 1..${MAX_INSTANCES} instances`
    )
    scaler = await startLocalScaler(
      {
        groupId: appId,
        topics: [ordersTopic],
        brokers,
        command: process.execPath,
        args: [join(repoRoot, 'bin/streamlane.js'), 'run', join(repoRoot, 'examples/order-enricher/app.ts')],
        intervalMs: 1_000,
        graceMs: 15_000,
        rateWindowMs: 5_000,
        // The workers' own output stays visible; at log level error a healthy run prints nothing, a failing one says why.
        output: 'inherit',
        policy: {
          minReplicas: 1,
          maxReplicas: MAX_INSTANCES,
          lagDrainTargetSeconds: 10,
          normalLagSeconds: 2,
          scaleInStabilizationSeconds: 5
        }
      },
      {
        env: {
          ...process.env,
          STREAMLANE_APPLICATION_ID: appId,
          ORDERS_TOPIC: ordersTopic,
          ENRICHED_ORDERS_TOPIC: enrichedTopic,
          STREAMLANE_COMMIT_INTERVAL_MS: '1000',
          STREAMLANE_LOG_LEVEL: 'error'
        }
      }
    )
    const workers = () => scaler!.status().workers.filter((w) => w.phase === 'running').length
    const firstWorkerBy = Date.now() + 60_000
    while (workers() < 1) {
      if (Date.now() > firstWorkerBy) {
        throw new Error("no worker joined the group within 60 s: see the workers' errors above")
      }
      await delay(200)
    }
    await delay(3_000)

    say(`producing a burst of ${ORDERS} orders onto ${PARTITIONS} partitions`)
    await produceOrders(brokers)
    let peak = 1
    let last = ''
    const started = Date.now()
    for (;;) {
      const enriched = await endOf(enrichedTopic)
      const lag = ORDERS - enriched
      const running = workers()
      peak = Math.max(peak, running)
      const reason = scaler.status().lastDecision?.reason ?? ''
      const line = `instances ${running}  enriched ${enriched}/${ORDERS}  lag ${lag}`
      if (line !== last) say(`${line}${reason ? `  (${reason.slice(0, 90)})` : ''}`)
      last = line
      if (enriched >= ORDERS && running === 1 && peak > 1) break
      if (Date.now() - started > 240_000) throw new Error('the demo did not finish within 4 minutes')
      await delay(1_000)
    }

    say('checking the output: every order enriched exactly once')
    const reader = createPartitionReader({ brokers, copyBuffers: true })
    const seen = new Map<string, number>()
    await reader.assign(
      Array.from({ length: PARTITIONS }, (_, p) => ({ topic: enrichedTopic, partition: p, offset: OFFSET_EARLIEST }))
    )
    let read = 0
    while (read < (await endOf(enrichedTopic))) {
      for (const record of await reader.poll(500)) {
        read++
        const key = record.key!.toString()
        seen.set(key, (seen.get(key) ?? 0) + 1)
      }
    }
    await reader.close()
    const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0)
    console.log(`
| orders produced | orders enriched | distinct | duplicates | lost | peak instances | seconds to drain |
|---|---|---|---|---|---|---|
| ${ORDERS} | ${read} | ${seen.size} | ${duplicates} | ${ORDERS - seen.size} | ${peak} | ${((Date.now() - started) / 1000).toFixed(0)} |
`)
    if (seen.size !== ORDERS) process.exitCode = 1
  } finally {
    await scaler?.stop('demo finished')
    await admin.close()
    await broker?.stop()
  }
}

main().catch((error: unknown) => {
  console.error(
    `streamlane demo: ${error instanceof BrokerSetupError || error instanceof Error ? error.message : String(error)}`
  )
  process.exit(1)
})
