import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { Serdes } from '../../../src/serde/index.ts'
import { type KeyValueStore, keyValueStoreBuilder, StateLifecycleError } from '../../../src/state/index.ts'
import { type Backend, TaskHarness } from './helpers.ts'

const str = (b: Buffer | null) => (b === null ? null : b.toString())

for (const backend of ['memory', 'lmdb'] as Backend[]) {
  describe(`change logging and restoration (${backend})`, () => {
    let task: TaskHarness
    let store: KeyValueStore<string, string>
    const persistent = backend === 'lmdb'
    const builder = () =>
      keyValueStoreBuilder({ name: 'counts', keySerde: Serdes.string(), valueSerde: Serdes.string(), persistent })

    beforeEach(() => {
      task = new TaskHarness()
      store = task.open(builder())
    })
    afterEach(() => task.close())

    test('every put and delete is a changelog record on the task partition, with the record timestamp', () => {
      task.timestamp = 111
      store.put('a', '1')
      task.timestamp = 222
      store.delete('a')
      store.put('b', null)
      assert.deepEqual(
        task.sink.records.map((r) => [r.topic, r.partition, str(r.key), str(r.value), r.timestamp]),
        [
          ['app-counts-changelog', 3, 'a', '1', 111],
          ['app-counts-changelog', 3, 'a', null, 222],
          ['app-counts-changelog', 3, 'b', null, 222]
        ]
      )
    })

    test('an unlogged store sends nothing and has no changelog partition', () => {
      const quiet = task.open(
        keyValueStoreBuilder({
          name: 'quiet',
          keySerde: Serdes.string(),
          valueSerde: Serdes.string(),
          persistent,
          logging: false
        })
      )
      quiet.put('a', '1')
      assert.equal(task.sink.records.length, 0)
      assert.deepEqual(
        task.manager.changelogPartitions().map((p) => p.store),
        ['counts']
      )
    })

    test('restoring writes records (tombstones included) without logging them, and checkpoints last offset + 1', () => {
      assert.deepEqual(task.manager.changelogPartitions(), [
        { store: 'counts', topic: 'app-counts-changelog', partition: 3, checkpointOffset: null }
      ])
      task.manager.restore('app-counts-changelog', [
        { key: Buffer.from('a'), value: Buffer.from('1'), timestamp: 1, offset: 10n },
        { key: Buffer.from('b'), value: Buffer.from('2'), timestamp: 1, offset: 11n },
        { key: Buffer.from('a'), value: null, timestamp: 2, offset: 12n }
      ])
      assert.equal(task.sink.records.length, 0)
      assert.equal(store.get('a'), null)
      assert.equal(store.get('b'), '2')
      const [partition] = task.manager.changelogPartitions()
      assert.equal(partition!.checkpointOffset, 13n)
      assert.equal(store.approximateNumEntries(), 1)
    })

    test('restoring over uncommitted writes is refused', () => {
      store.put('x', '1')
      assert.throws(
        () =>
          task.manager.restore('app-counts-changelog', [
            { key: Buffer.from('a'), value: null, timestamp: 0, offset: 0n }
          ]),
        StateLifecycleError
      )
    })

    test('a changelog replayed into a fresh store rebuilds the same state', async () => {
      for (let i = 0; i < 50; i++) store.put(`k${i % 7}`, String(i))
      store.delete('k3')
      task.commit()
      const expected = [...store.all()].map((e) => [e.key, e.value])
      const logged = task.sink.records.map((r) => ({
        key: r.key,
        value: r.value,
        timestamp: r.timestamp,
        offset: r.offset
      }))
      const fresh = new TaskHarness()
      try {
        const copy = fresh.open(builder())
        fresh.manager.restore('app-counts-changelog', logged)
        assert.deepEqual(
          [...copy.all()].map((e) => [e.key, e.value]),
          expected
        )
      } finally {
        await fresh.close()
      }
    })
  })
}
