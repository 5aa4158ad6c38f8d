/**
 * Restoration progress: totals come from each changelog partition's start (checkpoint, or log start) and end, and a
 * finished task reports done == total even when compaction left gaps in the offsets.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import type { KafkaAdmin } from '../../../src/kafka/admin.ts'
import type { KafkaPartitionReader } from '../../../src/kafka/partition-reader.ts'
import { OFFSET_EARLIEST } from '../../../src/kafka/partition-reader.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import { StateRestorer, type TaskRestoreProgress } from '../../../src/runtime/state-restorer.ts'
import type { ChangelogPartitionToRestore, TaskStateManager } from '../../../src/state/index.ts'
import { waitFor } from '../../support/wait.ts'

interface FakePartition {
  logStart: bigint
  end: bigint
  /** Offsets that hold a record (compaction removed the others). */
  offsets: bigint[]
}

/** A reader over in-memory changelog partitions, `batch` records per partition per poll. */
function fakeKafka(partitions: Record<string, FakePartition>, batch: number) {
  const positions = new Map<string, bigint>()
  const reader = {
    async assign(list: { topic: string; partition: number; offset: bigint }[]) {
      for (const { topic, partition, offset } of list) {
        const p = partitions[`${topic}:${partition}`]!
        positions.set(`${topic}:${partition}`, offset === OFFSET_EARLIEST ? p.logStart : offset)
      }
    },
    unassign(list: { topic: string; partition: number }[]) {
      for (const { topic, partition } of list) positions.delete(`${topic}:${partition}`)
    },
    position: (topic: string, partition: number) => positions.get(`${topic}:${partition}`),
    async poll(): Promise<ConsumedRecord[]> {
      const out: ConsumedRecord[] = []
      for (const [key, position] of positions) {
        const p = partitions[key]!
        const [topic, partition] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))]
        const next = p.offsets.filter((o) => o >= position).slice(0, batch)
        for (const offset of next) {
          out.push({
            topic,
            partition,
            offset,
            timestamp: 0,
            key: Buffer.from('k'),
            value: Buffer.from('v'),
            headers: []
          })
        }
        // Past the last record of a fully read partition the position is its end (as after a fetch of the tail).
        const last = next.at(-1)
        positions.set(key, last === undefined || last === p.offsets.at(-1) ? p.end : last + 1n)
      }
      return out
    }
  }
  const admin = {
    async listOffsets(topics: { topic: string; partitions: number[] }[]) {
      const result = new Map<string, Map<number, bigint>>()
      for (const { topic, partitions: numbers } of topics) {
        const byPartition = result.get(topic) ?? new Map<number, bigint>()
        for (const n of numbers) byPartition.set(n, partitions[`${topic}:${n}`]!.end)
        result.set(topic, byPartition)
      }
      return result
    }
  }
  return { reader: reader as unknown as KafkaPartitionReader, admin: admin as unknown as KafkaAdmin }
}

const restored: unknown[] = []
const manager = {
  restore: (_topic: string, batch: unknown[]) => restored.push(...batch),
  restored: async () => {}
} as unknown as TaskStateManager

function changelog(topic: string, checkpointOffset: bigint | null): ChangelogPartitionToRestore {
  return { store: topic, topic, partition: 0, checkpointOffset }
}

async function restoreAll(restorer: StateRestorer): Promise<void> {
  for (let i = 0; i < 100 && restorer.restoringTasks > 0; i++) await restorer.step(0)
  assert.equal(restorer.restoringTasks, 0, 'restoration finished')
}

test('progress counts offsets from checkpoint or log start to end and finishes at done == total', async () => {
  const { reader, admin } = fakeKafka(
    {
      // Compacted: offsets 10..99 with every third one gone; no checkpoint, so reading starts at the log start (10).
      'a:0': {
        logStart: 10n,
        end: 100n,
        offsets: [...Array(90).keys()].map((i) => BigInt(i + 10)).filter((o) => o % 3n !== 0n)
      },
      // Checkpoint at 40 of 60.
      'b:0': { logStart: 0n, end: 60n, offsets: [...Array(60).keys()].map(BigInt) }
    },
    7
  )
  const restorer = new StateRestorer(reader, admin)
  const events: TaskRestoreProgress[] = []
  restorer.onProgress = (p) => events.push(p)
  const upToDate = await restorer.add('0_0', manager, [changelog('a', null), changelog('b', 40n)])
  assert.equal(upToDate, false)
  assert.equal(events[0]!.recordsDone, 0)
  assert.equal(events[0]!.recordsTotal, 90 + 20)
  assert.equal(restorer.remainingRecords, 110)
  // By store (each changelog here is its store's): listed from the plan, 0 restored so far.
  assert.deepEqual(Object.fromEntries(restorer.remainingByStore()), { a: 90, b: 20 })
  assert.deepEqual(Object.fromEntries(restorer.restoredByStore), { a: 0, b: 0 })

  await restorer.step(0)
  const remainingAfterOne = restorer.remainingRecords
  assert.ok(remainingAfterOne < 110 && remainingAfterOne > 0, `remaining ${remainingAfterOne}`)
  await restoreAll(restorer)

  const last = events.at(-1)!
  assert.equal(last.finished, true)
  assert.equal(last.recordsDone, last.recordsTotal)
  assert.equal(last.recordsTotal, 110)
  assert.equal(last.recordsRestored, 60 + 20, 'records actually read: 60 left by compaction in a, 20 in b')
  assert.equal(events.filter((e) => e.finished).length, 1)
  for (let i = 1; i < events.length; i++) assert.ok(events[i]!.recordsDone >= events[i - 1]!.recordsDone)
  assert.equal(restorer.remainingRecords, 0)
  assert.deepEqual(Object.fromEntries(restorer.remainingByStore()), {})
  assert.deepEqual(Object.fromEntries(restorer.restoredByStore), { a: 60, b: 20 })
})

test('a task with nothing to restore reports nothing and counts nothing as remaining', async () => {
  const { reader, admin } = fakeKafka({ 'c:0': { logStart: 0n, end: 5n, offsets: [0n, 1n, 2n, 3n, 4n] } }, 10)
  const restorer = new StateRestorer(reader, admin)
  const events: TaskRestoreProgress[] = []
  restorer.onProgress = (p) => events.push(p)
  assert.equal(await restorer.add('0_1', manager, [changelog('c', 5n)]), true)
  assert.deepEqual(events, [])
  assert.equal(restorer.remainingRecords, 0)
})

test('a task removed before it finished no longer counts as remaining', async () => {
  const { reader, admin } = fakeKafka(
    { 'd:0': { logStart: 0n, end: 50n, offsets: [...Array(50).keys()].map(BigInt) } },
    5
  )
  const restorer = new StateRestorer(reader, admin)
  await restorer.add('0_2', manager, [changelog('d', null)])
  await restorer.step(0)
  assert.equal(restorer.remainingRecords, 45)
  restorer.remove('0_2')
  assert.equal(restorer.remainingRecords, 0)
  assert.equal(restorer.restoringTasks, 0)
})

test('an HTTP request is answered while a large restore batch is being applied', async () => {
  const total = 200_000
  const { reader, admin } = fakeKafka(
    { 'e:0': { logStart: 0n, end: BigInt(total), offsets: [...Array(total).keys()].map(BigInt) } },
    total
  )
  let applied = 0
  let appliedWhenAnswered: number | undefined
  const counting = {
    restore: (_topic: string, batch: unknown[]) => {
      applied += batch.length
    },
    restored: async () => {}
  } as unknown as TaskStateManager
  const server = createServer((_, response) => response.end('ok'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const restorer = new StateRestorer(reader, admin)
    await restorer.add('0_3', counting, [changelog('e', null)])
    const { port } = server.address() as AddressInfo
    // Sent before the batch (all 200,000 records in one poll) is applied; answered only if the loop gets turns.
    const answered = fetch(`http://127.0.0.1:${port}/ready`).then(async (response) => {
      appliedWhenAnswered = applied
      return response.status
    })
    await restorer.step(0)
    assert.equal(applied, total)
    assert.equal(await answered, 200)
    assert.ok(
      appliedWhenAnswered !== undefined && appliedWhenAnswered < total,
      `answered after ${appliedWhenAnswered} of ${total} records were applied`
    )
  } finally {
    server.close()
  }
})

test('a task read to its end is restored only once its stores hold every batch (write thread)', async () => {
  const { reader, admin } = fakeKafka({ 'f:0': { logStart: 0n, end: 3n, offsets: [0n, 1n, 2n] } }, 10)
  let settle: (() => void) | undefined
  const writing = {
    restore: () => {},
    restored: () => new Promise<void>((resolve) => (settle = resolve))
  } as unknown as TaskStateManager
  const restorer = new StateRestorer(reader, admin)
  await restorer.add('0_4', writing, [changelog('f', null)])
  let done: Awaited<ReturnType<StateRestorer['step']>> | undefined
  const step = restorer.step(0).then((d) => (done = d))
  await waitFor('the restorer waits for the writes', () => settle !== undefined)
  assert.equal(done, undefined, 'not reported while batches are still being written')
  settle!()
  await step
  assert.deepEqual(
    done!.map((d) => d.taskId),
    ['0_4']
  )
})
