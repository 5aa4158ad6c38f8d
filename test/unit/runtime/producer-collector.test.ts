import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { KafkaProducer } from '../../../src/kafka/producer.ts'
import { ProducerRecordCollector, WritesHeldError } from '../../../src/runtime/producer-collector.ts'
import { Headers } from '../../../src/serde/headers.ts'
import { TaskId } from '../../../src/topology/index.ts'

/** A producer whose sends stay unanswered until `release`, as records held back by `holdWhile` are. */
function heldProducer() {
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = []
  const producer = {
    send: (records: unknown[]) =>
      new Promise((resolve, reject) => {
        pending.push({
          resolve: () => resolve(records.map(() => ({ topic: 'out', partition: 0, offset: 0n }))),
          reject
        })
      }),
    async discardUnsent(reason: Error) {
      for (const p of pending.splice(0)) p.reject(reason)
    }
  } as unknown as KafkaProducer
  return { producer, pending }
}

function record(collector: ProducerRecordCollector): void {
  collector.send(
    {
      topic: 'out',
      partition: 0,
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      headers: Headers.empty,
      timestamp: 1
    },
    { taskId: new TaskId(0, 0), sinkName: 'sink', sourceRecord: null }
  )
}

test('a flush fails with WritesHeldError instead of waiting on records held back; held records can be dropped', async () => {
  const { producer, pending } = heldProducer()
  let held = true
  const failures: unknown[] = []
  const collector = new ProducerRecordCollector(
    producer,
    new Map([['out', 1]]),
    (f) => failures.push(f),
    () => held
  )
  record(collector)
  await assert.rejects(collector.flush(), WritesHeldError)
  await collector.discardUnsent()
  assert.equal(pending.length, 0)
  assert.deepEqual(failures, [], 'dropped records are not production failures')
  held = false
  record(collector)
  const flushed = collector.flush()
  pending[0]!.resolve()
  await flushed
  assert.equal(collector.sent, 1)
})
