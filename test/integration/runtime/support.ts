import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { createPartitionReader, OFFSET_EARLIEST } from '../../../src/kafka/partition-reader.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import { testBrokers } from '../../support/kafka.ts'

export async function createTopics(topics: { name: string; partitions: number }[]): Promise<void> {
  const admin = createAdmin({ brokers: testBrokers() })
  try {
    await admin.createTopics(topics)
  } finally {
    await admin.close()
  }
}

/** Produces `count` string records keyed `k<i>` with value `<i>` spread over the topic's partitions by key. */
export async function produceNumbered(topic: string, count: number, batch = 5_000): Promise<void> {
  const producer = createProducer({ brokers: testBrokers() })
  try {
    for (let start = 0; start < count; start += batch) {
      const records = []
      for (let i = start; i < Math.min(count, start + batch); i++) {
        records.push({ topic, key: Buffer.from(`k${i}`), value: Buffer.from(String(i)) })
      }
      await producer.send(records)
    }
  } finally {
    await producer.close()
  }
}

/** Reads every partition of `topic` from the start until `until(records)` holds or the deadline passes. */
export async function readTopic(
  topic: string,
  partitions: number,
  until: (records: ConsumedRecord[]) => boolean,
  timeoutMs = 60_000
): Promise<ConsumedRecord[]> {
  const reader = createPartitionReader({ brokers: testBrokers(), isolation: 'read_committed', copyBuffers: true })
  const records: ConsumedRecord[] = []
  try {
    await reader.assign(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: OFFSET_EARLIEST }))
    )
    const deadline = Date.now() + timeoutMs
    while (!until(records)) {
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms reading ${topic}: ${records.length} records so far`)
      }
      records.push(...(await reader.poll(200)))
    }
    return records
  } finally {
    await reader.close()
  }
}

/** Records written to `topic` so far: the sum of its partitions' end offsets. */
export async function topicEnd(admin: KafkaAdmin, topic: string): Promise<number> {
  let total = 0n
  for (const end of (await admin.listOffsets([{ topic }], 'latest')).get(topic)!.values()) total += end
  return Number(total)
}

/** Input records of `topic` the group has committed: the sum of its committed offsets. */
export async function committedInput(admin: KafkaAdmin, groupId: string, topic: string): Promise<number> {
  const offsets = await admin.fetchGroupOffsets(groupId, [topic])
  return offsets.reduce((sum, o) => sum + (o.offset > 0n ? Number(o.offset) : 0), 0)
}
