import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { type Broker, startBroker } from '../../../scripts/kafka/broker.ts'
import { StreamlaneError } from '../../../src/errors.ts'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createPartitionReader, OFFSET_EARLIEST } from '../../../src/kafka/partition-reader.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import { uniqueName } from '../../support/kafka.ts'

/**
 * A reader and a producer ride out a broker restart: the reader backs off and resumes at its position (no record
 * lost, none twice), the producer's send during the outage is retried until the broker is back. Runs its own broker
 * (the shared one must not be restarted).
 */
test('reader and producer survive a broker restart', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streamlane-restart-'))
  let broker: Broker | undefined
  try {
    broker = await startBroker({ dir })
    const brokers = [broker.bootstrap]
    const admin = createAdmin({ brokers })
    const producer = createProducer({ brokers, retryDelayMs: 200 })
    const reader = createPartitionReader({ brokers, maxPollRecords: 100, fetchMaxWaitMs: 100, retryDelayMs: 100 })
    const topic = uniqueName('restart')
    try {
      await admin.createTopics([{ name: topic, partitions: 1 }])
      await producer.send(Array.from({ length: 1_000 }, (_, i) => ({ topic, value: Buffer.from(`before-${i}`) })))
      await reader.assign([{ topic, partition: 0, offset: OFFSET_EARLIEST }])
      const read: ConsumedRecord[] = []
      while (read.length < 500) read.push(...(await reader.poll(1_000)))

      await broker.stop()
      // Sent while the broker is down: retried until it is back.
      const duringOutage = producer.send(
        Array.from({ length: 500 }, (_, i) => ({ topic, value: Buffer.from(`after-${i}`) }))
      )
      const polledWhileDown = await reader.poll(500)
      read.push(...polledWhileDown)
      await broker.restart()
      await duringOutage

      const deadline = Date.now() + 60_000
      while (read.length < 1_500 && Date.now() < deadline) read.push(...(await reader.poll(1_000)))
      assert.equal(read.length, 1_500)
      assert.deepEqual(
        read.map((r) => r.offset),
        Array.from({ length: 1_500 }, (_, i) => BigInt(i)),
        'every offset exactly once, in order'
      )
      assert.equal(read[999]?.value?.toString(), 'before-999')
      assert.equal(read[1_000]?.value?.toString(), 'after-0')

      // Nothing waits forever: with the broker gone for good, reads and sends fail at their configured deadlines.
      const impatient = createPartitionReader({ brokers, unavailableTimeoutMs: 3_000, fetchMaxWaitMs: 100 })
      const hurried = createProducer({ brokers, deliveryTimeoutMs: 2_000 })
      try {
        await impatient.assign([{ topic, partition: 0, offset: 1_500n }])
        await broker.stop()
        let started = Date.now()
        let failure: unknown
        while (!failure && Date.now() - started < 20_000) await impatient.poll(500).catch((e) => (failure = e))
        assert.ok(failure instanceof StreamlaneError, String(failure))
        assert.match(failure.message, new RegExp(`${topic}-0.*unavailableTimeoutMs 3000`))
        assert.ok(Date.now() - started < 10_000, `poll failed after ${Date.now() - started} ms`)

        started = Date.now()
        await assert.rejects(hurried.send([{ topic, value: Buffer.from('lost') }]), (e) => {
          return (
            e instanceof StreamlaneError && /2000 ms/.test(e.message) && e.message.includes(broker?.bootstrap ?? '?')
          )
        })
        assert.ok(Date.now() - started < 4_000, `send failed after ${Date.now() - started} ms`)
      } finally {
        await impatient.close()
        await hurried.close()
      }
    } finally {
      await reader.close()
      await producer.close()
      await admin.close()
    }
  } finally {
    await broker?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
