/**
 * The peer benchmark's inputs, produced once per workload before either system runs, so both read the very same
 * topic: RECORDS records of 100-byte lowercase values in 6 partitions, keyed by 8 ASCII digits. For the restore
 * workload the "input" is a changelog per app, produced just before that app's process starts.
 */
import { createProducer } from '../../src/kafka/producer.ts'
import type { BenchContext } from '../lib/bench-context.ts'
import { sendAll, textPayload } from '../lib/records.ts'
import { type PeerInput, RESTORE_STORE } from './workloads.ts'

export const RECORDS = Number(process.env.BENCH_PEER_RECORDS ?? 1_000_000)
export const KEYS = 100_000
export const VALUE_SIZE = 100
export const PARTITIONS = 6

const key = (n: number) => Buffer.from(String(n).padStart(8, '0'))
const values = Array.from({ length: 64 }, (_, i) => textPayload(VALUE_SIZE, i + 1))

export async function createTopic(ctx: BenchContext, prefix: string, configs?: Record<string, string>) {
  const name = ctx.uniqueName(prefix)
  await ctx.admin.createTopics([{ name, partitions: PARTITIONS, ...(configs === undefined ? {} : { configs }) }])
  return name
}

async function produce(
  ctx: BenchContext,
  topic: string,
  build: (i: number) => { key: Buffer; value: Buffer; timestamp?: number }
) {
  const producer = createProducer({ brokers: ctx.brokers, clientId: 'bench-peer-input' })
  try {
    await sendAll(producer, RECORDS, (i) => ({ topic, ...build(i) }))
  } finally {
    await producer.close()
  }
}

/** The input topic of a workload, produced in full (empty for the restore workload). */
export async function produceInput(ctx: BenchContext, input: PeerInput): Promise<string> {
  const topic = await createTopic(ctx, `peer-${input}`)
  // Windows: event times 1 ms apart from 20 minutes ago, so the input spans ~17 one-minute windows and each key
  // (every 100,000 records) lands in a window of its own each time; in order per partition, nothing is late.
  const base = Date.now() - 1_200_000
  if (input === 'shared-keys') await produce(ctx, topic, (i) => ({ key: key(i % KEYS), value: values[i % 64]! }))
  else if (input === 'distinct-keys') await produce(ctx, topic, (i) => ({ key: key(i), value: values[i % 64]! }))
  else if (input === 'timed') {
    await produce(ctx, topic, (i) => ({ key: key(i % KEYS), value: values[i % 64]!, timestamp: base + i }))
  }
  return topic
}

/**
 * The changelog an app of `applicationId` restores its `latest` store from (what the reduce workload's app would
 * have written): RECORDS distinct keys, compacted as both systems create their changelogs.
 */
export async function produceChangelog(ctx: BenchContext, applicationId: string): Promise<string> {
  const topic = `${applicationId}-${RESTORE_STORE}-changelog`
  await ctx.admin.createTopics([{ name: topic, partitions: PARTITIONS, configs: { 'cleanup.policy': 'compact' } }])
  await produce(ctx, topic, (i) => ({ key: key(i), value: values[i % 64]! }))
  return topic
}
