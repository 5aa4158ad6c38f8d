/**
 * The group's lag reaches 0 once everything is processed, also when the input is written in transactions (a
 * committed or aborted transaction ends with a marker that takes an offset): Streamlane commits the reader's
 * position past the markers (as Kafka Streams does since KAFKA-6607), under exactly-once for its own repartition
 * topic as well. Records produced after the drain are still all counted: the committed position never passes an
 * unprocessed record.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Materialized, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, readTopic } from './support.ts'

const PARTITIONS = 2
const WORDS = ['a', 'b', 'c', 'd', 'e']

/** Writes `rounds` committed transactions of one record per word and partition, plus one aborted transaction. */
async function produceInTransactions(topic: string, rounds: number): Promise<void> {
  const producer = createProducer({ brokers: testBrokers(), transactionalId: uniqueName('lag-input') })
  const records = WORDS.flatMap((word) =>
    Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, key: null, value: Buffer.from(word) }))
  )
  try {
    await producer.beginTransaction()
    await producer.send(records.map((r) => ({ ...r, value: Buffer.from('aborted') })))
    await producer.abortTransaction()
    for (let i = 0; i < rounds; i++) {
      await producer.beginTransaction()
      await producer.send(records)
      await producer.commitTransaction()
    }
  } finally {
    await producer.close()
  }
}

/** Partitions of the group's committed topics whose committed offset is not the log end (empty: lag 0). */
async function lagging(groupId: string, topics: string[]): Promise<string[]> {
  const admin = createAdmin({ brokers: testBrokers() })
  try {
    const committed = await admin.fetchGroupOffsets(groupId)
    const ends = await admin.listOffsets(
      topics.map((topic) => ({ topic })),
      'latest'
    )
    const behind: string[] = []
    for (const topic of topics) {
      for (const [partition, end] of ends.get(topic)!) {
        const offset = committed.find((c) => c.topic === topic && c.partition === partition)?.offset ?? -1n
        if (offset !== end) behind.push(`${topic}-${partition}: committed ${offset}, end ${end}`)
      }
    }
    return behind
  } finally {
    await admin.close()
  }
}

async function repartitionTopics(appId: string): Promise<string[]> {
  const admin = createAdmin({ brokers: testBrokers() })
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith(appId) && t.endsWith('-repartition'))
  } finally {
    await admin.close()
  }
}

for (const guarantee of ['exactly_once_v2', 'at_least_once'] as const) {
  test(`${guarantee}: committed offsets reach the log end of transactional input and the repartition topic`, async () => {
    const input = uniqueName('lag-in')
    const output = uniqueName('lag-out')
    const appId = uniqueName('lag-app')
    await createTopics([
      { name: input, partitions: PARTITIONS },
      { name: output, partitions: PARTITIONS }
    ])
    await produceInTransactions(input, 3)

    const builder = new StreamsBuilder()
    builder
      .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .groupBy((_, word) => word, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .count(Materialized.as('counts'))
      .toStream()
      .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.long() })
    const app = new StreamlaneApp(builder.build(), {
      applicationId: appId,
      bootstrapServers: testBrokers(),
      processingGuarantee: guarantee,
      commitIntervalMs: 100
    })
    const countsReach = async (expected: number) => {
      const latest = new Map<string, bigint>()
      await readTopic(output, PARTITIONS, (records) => {
        for (const r of records) latest.set(r.key!.toString(), r.value!.readBigInt64BE())
        return WORDS.every((w) => latest.get(w) === BigInt(expected))
      })
      // read_uncommitted (at-least-once) sees the aborted records too; read_committed never does.
      if (guarantee === 'exactly_once_v2') assert.equal(latest.has('aborted'), false)
    }
    await app.start()
    try {
      const repartition = await repartitionTopics(appId)
      assert.equal(repartition.length, 1)
      const topics = [input, ...repartition]
      await countsReach(3 * PARTITIONS)
      const behind = await waitFor('lag 0 on every partition', async () => {
        const late = await lagging(appId, topics)
        return late.length === 0 ? late : undefined
      }).catch(async (error) => assert.fail(`${error.message}: ${(await lagging(appId, topics)).join('; ')}`))
      assert.deepEqual(behind, [])

      // More input after the drain: all of it is counted, so the committed position skipped nothing.
      await produceInTransactions(input, 2)
      await countsReach(5 * PARTITIONS)
      await waitFor('lag 0 again', async () => (await lagging(appId, topics)).length === 0)
    } finally {
      await app.close()
    }
  })
}
