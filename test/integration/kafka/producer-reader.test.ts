import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { KafkaClosedError, OffsetOutOfRangeError, UnknownTopicError } from '../../../src/kafka/errors.ts'
import {
  createPartitionReader,
  type KafkaPartitionReader,
  OFFSET_EARLIEST,
  OFFSET_LATEST
} from '../../../src/kafka/partition-reader.ts'
import { murmur2Partition } from '../../../src/kafka/partitioner.ts'
import { createProducer, type KafkaProducer } from '../../../src/kafka/producer.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'

let admin: KafkaAdmin
let producer: KafkaProducer
const topics: string[] = []
const readers: KafkaPartitionReader[] = []

before(() => {
  admin = createAdmin({ brokers: testBrokers() })
  producer = createProducer({ brokers: testBrokers(), clientId: 'producer-reader-test' })
})

after(async () => {
  for (const r of readers) await r.close()
  await producer.close()
  await admin.deleteTopics(topics, { ifExists: true })
  await admin.close()
})

async function topic(partitions: number, configs?: Record<string, string>): Promise<string> {
  const name = uniqueName('rw')
  topics.push(name)
  await admin.createTopics([{ name, partitions, ...(configs ? { configs } : {}) }])
  return name
}

function reader(options: Partial<Parameters<typeof createPartitionReader>[0]> = {}): KafkaPartitionReader {
  const r = createPartitionReader({ brokers: testBrokers(), fetchMaxWaitMs: 100, ...options })
  readers.push(r)
  return r
}

/** Polls until `count` records arrived (and fails on more), with a deadline. */
async function readExactly(r: KafkaPartitionReader, count: number, timeoutMs = 15_000): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = []
  const deadline = Date.now() + timeoutMs
  while (out.length < count) {
    if (Date.now() > deadline) throw new Error(`read ${out.length} of ${count} records before the deadline`)
    out.push(...(await r.poll(200)))
  }
  assert.equal(out.length, count)
  return out
}

async function pollUntilError(r: KafkaPartitionReader, timeoutMs = 10_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      await r.poll(100)
    } catch (error) {
      return error
    }
  }
  throw new Error('poll() did not fail before the deadline')
}

test('a reader returns exactly what was sent: keys, values, headers, timestamps, offsets, partitions', async () => {
  const name = await topic(3)
  const records = Array.from({ length: 30 }, (_, i) => ({
    topic: name,
    key: i % 5 === 0 ? null : Buffer.from(`key-${i % 7}`),
    value: i === 3 ? null : Buffer.from(`value-${i}`),
    headers:
      i % 2
        ? ([
            ['trace', Buffer.from(`t${i}`)],
            ['trace', Buffer.from('again')],
            ['empty', Buffer.alloc(0)]
          ] as [string, Buffer][])
        : [],
    timestamp: 1_700_000_000_000 + i
  }))
  const written = await producer.send(records)
  assert.equal(written.length, records.length)
  for (const [i, w] of written.entries()) {
    const key = records[i]?.key
    if (key) assert.equal(w.partition, murmur2Partition(key, 3), 'keyed records land where Java would put them')
  }

  const r = reader()
  await r.assign([0, 1, 2].map((partition) => ({ topic: name, partition, offset: OFFSET_EARLIEST })))
  const read = await readExactly(r, records.length)
  const byPosition = new Map(read.map((rec) => [`${rec.partition}:${rec.offset}`, rec]))
  for (const [i, sent] of records.entries()) {
    const w = written[i]!
    const got = byPosition.get(`${w.partition}:${w.offset}`)
    assert.ok(got, `record ${i} at ${w.partition}:${w.offset} was read`)
    assert.equal(got.topic, name)
    assert.deepEqual(got.key, sent.key)
    assert.deepEqual(got.value, sent.value)
    assert.deepEqual(got.headers, sent.headers)
    assert.equal(got.timestamp, sent.timestamp)
  }
  for (const p of [0, 1, 2]) {
    const expected = BigInt(written.filter((w) => w.partition === p).length)
    assert.equal(r.position(name, p), expected)
    assert.equal(r.endOffset(name, p), expected)
  }
  assert.deepEqual(await r.poll(200), [], 'nothing more')
})

test('one send over interleaved topics and partitions reports where each record went', async () => {
  // What the runtime sends: outputs and changelog records of several partitions mixed in one call.
  const outputs = await topic(3)
  const changelog = await topic(2)
  const records = Array.from({ length: 40 }, (_, i) =>
    i % 3 === 0
      ? { topic: changelog, partition: i % 2, key: Buffer.from(`c${i}`), value: Buffer.from(`v${i}`) }
      : { topic: outputs, key: i % 4 === 0 ? null : Buffer.from(`k${i % 5}`), value: Buffer.from(`v${i}`) }
  )
  const written = await producer.send(records)
  assert.equal(written.length, records.length)
  const r = reader()
  await r.assign([
    ...[0, 1, 2].map((partition) => ({ topic: outputs, partition, offset: OFFSET_EARLIEST })),
    ...[0, 1].map((partition) => ({ topic: changelog, partition, offset: OFFSET_EARLIEST }))
  ])
  const read = await readExactly(r, records.length)
  const byPosition = new Map(read.map((rec) => [`${rec.topic}:${rec.partition}:${rec.offset}`, rec]))
  for (const [i, w] of written.entries()) {
    assert.equal(w.topic, records[i]!.topic)
    const explicit = records[i]!.partition
    if (explicit !== undefined) assert.equal(w.partition, explicit)
    assert.deepEqual(byPosition.get(`${w.topic}:${w.partition}:${w.offset}`)?.value, records[i]!.value, `record ${i}`)
  }
})

test('seek, pause, resume and unassign', async () => {
  const name = await topic(2)
  await producer.send(
    Array.from({ length: 10 }, (_, i) => ({ topic: name, partition: i % 2, value: Buffer.from(`${i}`) }))
  )
  const r = reader()
  await r.assign([
    { topic: name, partition: 0, offset: 2n },
    { topic: name, partition: 1, offset: OFFSET_LATEST }
  ])
  const first = await readExactly(r, 3)
  assert.deepEqual(
    first.map((rec) => [rec.partition, rec.offset]),
    [
      [0, 2n],
      [0, 3n],
      [0, 4n]
    ],
    'partition 0 from offset 2, partition 1 from its end'
  )
  assert.equal(r.position(name, 1), 5n)

  r.pause([{ topic: name, partition: 0 }])
  r.seek(name, 0, 0n)
  await producer.send([{ topic: name, partition: 1, value: Buffer.from('late') }])
  const whilePaused = await readExactly(r, 1)
  assert.deepEqual([whilePaused[0]?.partition, whilePaused[0]?.value?.toString()], [1, 'late'])
  assert.deepEqual(await r.poll(300), [], 'a paused partition returns nothing')
  assert.equal(r.position(name, 0), 0n)

  r.resume([{ topic: name, partition: 0 }])
  const afterResume = await readExactly(r, 5)
  assert.deepEqual(
    afterResume.map((rec) => rec.offset),
    [0n, 1n, 2n, 3n, 4n],
    'resumed from the sought offset'
  )

  r.seek(name, 0, 3n)
  assert.deepEqual(
    (await readExactly(r, 2)).map((rec) => rec.offset),
    [3n, 4n]
  )

  r.unassign([{ topic: name, partition: 1 }])
  assert.deepEqual(r.assignment(), [{ topic: name, partition: 0 }])
  await producer.send([{ topic: name, partition: 1, value: Buffer.from('unseen') }])
  assert.deepEqual(await r.poll(300), [])
  assert.throws(() => r.seek(name, 1, 0n), /not assigned/)
})

test('an offset out of range resets per policy or fails with an error naming the partition', async () => {
  const name = await topic(1)
  await producer.send(Array.from({ length: 5 }, (_, i) => ({ topic: name, partition: 0, value: Buffer.from(`${i}`) })))
  await admin.deleteRecords([{ topic: name, partition: 0, offset: 3n }])

  const earliest = reader({ offsetReset: 'earliest' })
  await earliest.assign([{ topic: name, partition: 0, offset: 1n }])
  assert.deepEqual(
    (await readExactly(earliest, 2)).map((rec) => rec.offset),
    [3n, 4n]
  )

  const latest = reader({ offsetReset: 'latest' })
  await latest.assign([{ topic: name, partition: 0, offset: 100n }])
  await waitFor('the position to reset to the end', () => latest.poll(50).then(() => latest.position(name, 0) === 5n))

  const strict = reader({ offsetReset: 'error' })
  await strict.assign([{ topic: name, partition: 0, offset: 1n }])
  const failure = await pollUntilError(strict)
  assert.ok(failure instanceof OffsetOutOfRangeError, String(failure))
  assert.equal(failure.topic, name)
  assert.equal(failure.partition, 0)
  assert.equal(failure.offset, 1n)
  assert.match(failure.message, new RegExp(`offset 1 of ${name}-0`))
  strict.seek(name, 0, 3n)
  assert.equal((await readExactly(strict, 2))[0]?.offset, 3n)
})

test('unknown topics and closed readers give clear errors', async () => {
  const missing = uniqueName('rw-missing')
  const r = reader()
  await assert.rejects(
    r.assign([{ topic: missing, partition: 0, offset: 0n }]),
    (e) => e instanceof UnknownTopicError && e.topic === missing
  )
  const own = createProducer({ brokers: testBrokers() })
  await assert.rejects(
    own.send([{ topic: missing, value: Buffer.from('x') }]),
    (e) => e instanceof UnknownTopicError && e.topic === missing
  )
  await assert.rejects(own.flush(), UnknownTopicError, 'flush() reports the failed send again')
  await own.flush()
  await own.close()
  await assert.rejects(own.send([]), KafkaClosedError)
  const name = await topic(1)
  await assert.rejects(r.assign([{ topic: name, partition: 3, offset: 0n }]), /has no partition 3/)
  await r.close()
  await assert.rejects(r.poll(10), KafkaClosedError)
})

test('batching: concurrent unawaited sends coalesce and flush() waits for all of them', async () => {
  const name = await topic(4)
  const pending = Array.from({ length: 2000 }, (_, i) =>
    producer.send([{ topic: name, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) }])
  )
  await producer.flush()
  const results = await Promise.all(pending)
  const offsets = await admin.listOffsets([{ topic: name }], 'latest')
  let total = 0n
  for (const o of offsets.get(name)?.values() ?? []) total += o
  assert.equal(total, 2000n)
  const seen = new Set(results.map(([w]) => `${w?.partition}:${w?.offset}`))
  assert.equal(seen.size, 2000, 'every record got its own offset')
})

test('a large restoration read with a big partitionMaxBytes', async () => {
  const name = await topic(1, { 'cleanup.policy': 'compact' })
  const value = Buffer.alloc(1000, 1)
  for (let batch = 0; batch < 5; batch++) {
    await producer.send(
      Array.from({ length: 2000 }, (_, i) => ({ topic: name, key: Buffer.from(`k${batch * 2000 + i}`), value }))
    )
  }
  const r = reader({ partitionMaxBytes: 32 * 1024 * 1024, copyBuffers: true })
  await r.assign([{ topic: name, partition: 0, offset: OFFSET_EARLIEST }])
  const read = await readExactly(r, 10_000)
  assert.equal(read.at(-1)?.offset, 9_999n)
  assert.equal(r.position(name, 0), r.endOffset(name, 0))
})

test('compressed batches round-trip, and batches() iterates until close', async () => {
  const name = await topic(1)
  for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const compressed = createProducer({ brokers: testBrokers(), compression })
    await compressed.send(
      Array.from({ length: 50 }, (_, i) => ({
        topic: name,
        key: Buffer.from(`${compression}-${i}`),
        value: Buffer.alloc(200, i)
      }))
    )
    await compressed.close()
  }
  const r = reader()
  await r.assign([{ topic: name, partition: 0, offset: 75n }]) // inside the second (snappy) batch
  const seen: ConsumedRecord[] = []
  for await (const batch of r.batches(200)) {
    seen.push(...batch)
    if (seen.length >= 125) await r.close()
  }
  assert.equal(seen.length, 125)
  assert.deepEqual(
    seen.map((rec) => rec.offset),
    Array.from({ length: 125 }, (_, i) => BigInt(75 + i))
  )
  assert.equal(seen[0]?.key?.toString(), 'snappy-25')
  assert.deepEqual(seen[0]?.value, Buffer.alloc(200, 25))
  assert.equal(seen.at(-1)?.key?.toString(), 'zstd-49')
})
