/**
 * Restored batches written on the restore write thread: once `restored()` resolves the stores read them with their
 * checkpoint, a close waits for the batches still being written, and the packed format keeps every entry.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { Serdes } from '../../../src/serde/index.ts'
import { keyValueStoreBuilder, RestoreWriteThread } from '../../../src/state/index.ts'
import { packWrites, unpackWrites } from '../../../src/state/restore-write-batch.ts'
import { TaskHarness } from './helpers.ts'

const TOPIC = 'app-counts-changelog'
const counts = () => keyValueStoreBuilder({ name: 'counts', keySerde: Serdes.string(), valueSerde: Serdes.string() })
const record = (key: string, value: string | null, offset: number) => ({
  key: Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  timestamp: 0,
  offset: BigInt(offset)
})

/** `n` records from `from`: keys k0..k(keys-1) in turn, values v<offset>. */
function batch(from: number, n: number, keys: number) {
  return Array.from({ length: n }, (_, i) => record(`k${(from + i) % keys}`, `v${from + i}`, from + i))
}

describe('restoring through the restore write thread', () => {
  const thread = new RestoreWriteThread()
  after(() => thread.close())

  test('after restored(), the store holds every batch, deletes applied, with the last checkpoint', async () => {
    const task = new TaskHarness({ restoreWrites: thread })
    try {
      const store = task.open(counts())
      for (let from = 0; from < 20_000; from += 4_000) task.manager.restore(TOPIC, batch(from, 4_000, 5_000))
      task.manager.restore(TOPIC, [record('k1', null, 20_000)])
      await task.manager.restored()
      assert.equal(task.manager.changelogPartitions()[0]!.checkpointOffset, 20_001n)
      assert.equal(store.get('k0'), 'v15000')
      assert.equal(store.get('k4999'), 'v19999')
      assert.equal(store.get('k1'), null)
      assert.equal(store.approximateNumEntries(), 4_999)
    } finally {
      await task.close()
    }
  })

  test('a close right after the batches waits for them: the reopened store has them all', async () => {
    const task = new TaskHarness({ restoreWrites: thread })
    try {
      task.open(counts())
      for (let from = 0; from < 40_000; from += 4_000) task.manager.restore(TOPIC, batch(from, 4_000, 40_000))
      await task.reopenTask()
      const store = task.open(counts())
      assert.equal(task.manager.changelogPartitions()[0]!.checkpointOffset, 40_000n)
      assert.equal(store.get('k39999'), 'v39999')
      assert.equal(store.approximateNumEntries(), 40_000)
    } finally {
      await task.close()
    }
  })

  test('the packed format keeps empty keys, empty values and deletes', () => {
    const writes = [
      { key: Buffer.alloc(0), value: Buffer.from('empty key') },
      { key: Buffer.from('a'), value: Buffer.alloc(0) },
      { key: Buffer.from('b'), value: null }
    ]
    const seen: [string, string | null][] = []
    unpackWrites(Buffer.from(packWrites(writes, 0)), (key, value) => {
      seen.push([key.toString('hex'), value === null ? null : value.toString()])
    })
    assert.deepEqual(seen, [
      ['00', 'empty key'],
      ['0061', ''],
      ['0062', null]
    ])
  })
})
