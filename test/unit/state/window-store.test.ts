import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { Serdes } from '../../../src/serde/index.ts'
import { readTimestamp } from '../../../src/state/bytes.ts'
import {
  InvalidStoreArgumentError,
  type LayeredStore,
  readOnlyWindowStore,
  timestampedWindowStoreBuilder,
  type WindowStore,
  windowStoreBuilder
} from '../../../src/state/index.ts'
import { type Backend, collect, TaskHarness } from './helpers.ts'

const MINUTE = 60_000

for (const backend of ['memory', 'lmdb'] as Backend[]) {
  describe(`window store (${backend})`, () => {
    let task: TaskHarness
    let store: WindowStore<string, number>
    const persistent = backend === 'lmdb'

    beforeEach(() => {
      task = new TaskHarness()
      store = task.open(
        windowStoreBuilder({
          name: 'windows',
          keySerde: Serdes.string(),
          valueSerde: Serdes.int32(),
          windowSizeMs: MINUTE,
          retentionMs: 10 * MINUTE,
          persistent
        })
      )
    })
    afterEach(() => task.close())

    test('fetch by key and window start, and by key and time range (oldest first, or newest first)', () => {
      for (let w = 0; w < 8; w++) store.put('a', w, w * MINUTE)
      store.put('b', 100, 2 * MINUTE)
      task.commit()
      store.put('a', 99, 3 * MINUTE) // pending overwrite merges in
      assert.equal(store.fetch('a', 2 * MINUTE), 2)
      assert.equal(store.fetch('a', 3 * MINUTE), 99)
      assert.equal(store.fetch('a', 2 * MINUTE + 1), null)
      assert.equal(store.fetch('c', 2 * MINUTE), null)
      const range = collect(store.fetch('a', 2 * MINUTE, 5 * MINUTE))
      assert.deepEqual(
        range.map((e) => [e.key, e.value]),
        [
          [2 * MINUTE, 2],
          [3 * MINUTE, 99],
          [4 * MINUTE, 4],
          [5 * MINUTE, 5]
        ]
      )
      assert.deepEqual(
        collect(store.backwardFetch('a', 2 * MINUTE, 5 * MINUTE)).map((e) => e.key),
        [5, 4, 3, 2].map((m) => m * MINUTE)
      )
      assert.deepEqual(
        collect(store.fetch('b', 0, 10 * MINUTE)).map((e) => e.value),
        [100]
      )
    })

    test('a key that extends another key by bytes does not leak into its fetches', () => {
      store.put('a', 1, MINUTE)
      // 'a\0\0...' sorts between 'a'+ts windows in a plain byte range; the store must filter it out.
      store.put('a\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000', 2, 0)
      store.put('ab', 3, MINUTE)
      task.commit()
      assert.deepEqual(
        collect(store.fetch('a', 0, 10 * MINUTE)).map((e) => e.value),
        [1]
      )
    })

    test('fetchAll and all return windowed keys with window bounds', () => {
      store.put('b', 1, 0)
      store.put('a', 2, MINUTE)
      store.put('a', 3, 2 * MINUTE)
      task.commit()
      const all = collect(store.all()).map((e) => [e.key.key, e.key.window.start, e.key.window.end, e.value])
      // One segment (5 minutes here), so: key bytes, then start.
      assert.deepEqual(all, [
        ['a', MINUTE, 2 * MINUTE, 2],
        ['a', 2 * MINUTE, 3 * MINUTE, 3],
        ['b', 0, MINUTE, 1]
      ])
      store.put('a', 4, 6 * MINUTE) // the next segment comes after
      assert.deepEqual(
        collect(store.all()).map((e) => e.value),
        [2, 3, 1, 4]
      )
      assert.deepEqual(
        collect(store.fetchAll(MINUTE, MINUTE)).map((e) => e.value),
        [2]
      )
      assert.deepEqual(
        collect(readOnlyWindowStore(store).fetch('a', 0, MINUTE)).map((e) => e.value),
        [2]
      )
    })

    test('windows expire by observed stream time: invisible at once, deleted from the backend', () => {
      store.put('a', 1, 0)
      store.put('a', 2, MINUTE)
      store.put('b', 3, 6 * MINUTE)
      task.commit()
      store.put('c', 4, 20 * MINUTE) // stream time 20 min: everything before 10 min + 1 ms is expired
      assert.equal(store.fetch('a', 0), null)
      assert.deepEqual(collect(store.fetch('a', 0, 30 * MINUTE)), [])
      assert.deepEqual(
        collect(store.all()).map((e) => e.key.key),
        ['c']
      )
      task.commit()
      // The expired segments are gone from the backend too (counting directly below the typed layer).
      assert.equal((store as unknown as LayeredStore).approximateNumEntries(), 1)
      store.put('late', 5, 5 * MINUTE)
      assert.equal(store.expiredPuts, 1)
      assert.equal(store.fetch('late', 5 * MINUTE), null)
    })

    test('deletes, invalid window starts and null keys', () => {
      store.put('a', 1, 0)
      store.put('a', null, 0)
      assert.equal(store.fetch('a', 0), null)
      assert.throws(() => store.put('a', 1, -5), InvalidStoreArgumentError)
      assert.throws(() => store.put(null as unknown as string, 1, 0), /keys cannot be null/)
    })

    test('changelog keys are key + start + seq (no segment), and restoring rebuilds the segment', () => {
      store.put('k', 7, 3 * MINUTE)
      task.commit()
      const record = task.sink.records.at(-1)!
      assert.equal(record.topic, 'app-windows-changelog')
      assert.equal(record.partition, 3)
      assert.equal(record.key.length, 1 + 12)
      assert.equal(record.key.subarray(0, 1).toString(), 'k')
      assert.equal(readTimestamp(record.key, 1), 3 * MINUTE)

      const other = task.open(
        windowStoreBuilder({
          name: 'copy',
          keySerde: Serdes.string(),
          valueSerde: Serdes.int32(),
          windowSizeMs: MINUTE,
          retentionMs: 10 * MINUTE,
          persistent
        })
      )
      task.manager.restore('app-copy-changelog', [{ key: record.key, value: record.value, timestamp: 0, offset: 0n }])
      assert.equal(other.fetch('k', 3 * MINUTE), 7)
      assert.deepEqual(
        collect(other.fetch('k', 0, 10 * MINUTE)).map((e) => e.value),
        [7]
      )
    })
  })
}

describe('window store options', () => {
  let task: TaskHarness
  beforeEach(() => {
    task = new TaskHarness()
  })
  afterEach(() => task.close())

  test('retaining duplicates keeps every put of a key and window', () => {
    const store = task.open(
      windowStoreBuilder({
        name: 'join',
        keySerde: Serdes.string(),
        valueSerde: Serdes.int32(),
        windowSizeMs: MINUTE,
        retentionMs: 2 * MINUTE,
        retainDuplicates: true,
        persistent: false
      })
    )
    store.put('k', 1, 0)
    store.put('k', 2, 0)
    store.put('k', null, 0) // ignored with duplicates
    assert.deepEqual(
      collect(store.fetch('k', 0, 0)).map((e) => e.value),
      [1, 2]
    )
    assert.equal(store.fetch('k', 0), 1)
  })

  test('a cached read-modify-write puts under its own key and window, whatever was fetched before', async () => {
    await task.close()
    task = new TaskHarness({ cacheMaxBytes: 1 << 20 })
    const store = task.open(
      windowStoreBuilder({
        name: 'rmw',
        keySerde: Serdes.bytes(),
        valueSerde: Serdes.int32(),
        windowSizeMs: MINUTE,
        retentionMs: 10 * MINUTE,
        caching: true
      })
    )
    const key = Buffer.from('aa')
    for (let i = 0; i < 3; i++) store.put(key, (store.fetch(key, 0) ?? 0) + 1, 0)
    store.fetch(key, 0)
    store.put(key, 7, MINUTE) // another window of the key just fetched
    store.fetch(Buffer.from('ab'), MINUTE)
    store.put(key, 8, 2 * MINUTE) // a window of another key than the one just fetched
    const changed = store.fetch(key, 0)
    key[1] = 0x62 // the caller's Buffer changes after the read: the put is for 'ab'
    store.put(key, changed, 0)
    task.commit()
    const stored = collect(store.all()).map((e) => [e.key.key.toString(), e.key.window.start, e.value])
    assert.deepEqual(stored, [
      ['aa', 0, 3],
      ['aa', MINUTE, 7],
      ['aa', 2 * MINUTE, 8],
      ['ab', 0, 3]
    ])
  })

  test('timestamped windows keep the timestamp', () => {
    const store = task.open(
      timestampedWindowStoreBuilder({
        name: 'tw',
        keySerde: Serdes.string(),
        valueSerde: Serdes.int32(),
        windowSizeMs: MINUTE,
        retentionMs: 2 * MINUTE
      })
    )
    store.put('k', { value: 5, timestamp: 1234 }, 0)
    task.commit()
    assert.deepEqual(store.fetch('k', 0), { value: 5, timestamp: 1234 })
    assert.equal(task.sink.records.at(-1)!.timestamp, 1234)
  })

  test('retention shorter than the window is rejected, naming the store', () => {
    assert.throws(
      () =>
        windowStoreBuilder({
          name: 'bad',
          keySerde: Serdes.string(),
          valueSerde: Serdes.int32(),
          windowSizeMs: MINUTE,
          retentionMs: 1000
        }),
      /state store bad: retentionMs \(1000\) must be at least windowSizeMs/
    )
  })

  test('changelog configs: compact,delete with retention plus one day', () => {
    const builder = windowStoreBuilder({
      name: 'w',
      keySerde: Serdes.string(),
      valueSerde: Serdes.int32(),
      windowSizeMs: MINUTE,
      retentionMs: MINUTE,
      logging: { 'min.insync.replicas': '2' }
    })
    assert.deepEqual(builder.changelogConfig, {
      'cleanup.policy': 'compact,delete',
      'retention.ms': String(MINUTE + 86_400_000),
      'min.insync.replicas': '2'
    })
  })
})
