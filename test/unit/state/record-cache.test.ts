import assert from 'node:assert/strict'
import { afterEach, describe, test } from 'node:test'
import { Serdes } from '../../../src/serde/index.ts'
import {
  type CacheFlushEvent,
  ENTRY_OVERHEAD_BYTES,
  type KeyValueStore,
  keyValueStoreBuilder,
  windowStoreBuilder
} from '../../../src/state/index.ts'
import { collect, TaskHarness } from './helpers.ts'

type Event = [string, string | null, string | null, number]

function cachedTask(cacheMaxBytes: number, sendOldValues = false) {
  const task = new TaskHarness({ cacheMaxBytes })
  const store: KeyValueStore<string, string> = task.open(
    keyValueStoreBuilder({ name: 'agg', keySerde: Serdes.string(), valueSerde: Serdes.string(), caching: true })
  )
  const events: Event[] = []
  const cached = store.setFlushListener((e: CacheFlushEvent<string, string>) => {
    events.push([e.key, e.newValue, e.oldValue, e.timestamp])
  }, sendOldValues)
  const logged = () => task.sink.records.map((r) => [r.key.toString(), r.value?.toString() ?? null])
  return { task, store, events, cached, logged }
}

describe('record cache', () => {
  let task: TaskHarness | undefined
  afterEach(async () => {
    await task?.close()
    task = undefined
  })

  test('dedupes updates between commits: one changelog record and one forward per key, latest value', () => {
    const t = cachedTask(1 << 20)
    task = t.task
    assert.equal(t.cached, true)
    t.task.timestamp = 10
    t.store.put('a', '1')
    t.task.timestamp = 20
    t.store.put('a', '2')
    t.store.put('b', '1')
    t.task.timestamp = 30
    t.store.put('a', '3')
    assert.equal(t.store.get('a'), '3')
    assert.deepEqual(
      collect(t.store.all()).map((e) => e.key),
      ['a', 'b']
    )
    assert.deepEqual(t.logged(), [])
    assert.deepEqual(t.events, [])
    t.task.commit()
    // Order of the LAST update of each key (Kafka Streams' NamedCache order): b (at 20) before a (at 30).
    assert.deepEqual(t.events, [
      ['b', '1', null, 20],
      ['a', '3', null, 30]
    ])
    assert.deepEqual(t.logged(), [
      ['b', '1'],
      ['a', '3']
    ])
    t.task.commit()
    assert.equal(t.events.length, 2, 'a second flush forwards nothing new')
  })

  test('evicts the least recently used entry first, then flushes the other dirty entries', () => {
    const entry = ENTRY_OVERHEAD_BYTES + 2 // one-character keys and values
    const t = cachedTask(3 * entry)
    task = t.task
    t.store.put('a', '1')
    t.store.put('b', '1')
    t.store.put('c', '1')
    t.store.get('a') // touch: b is now the least recently used
    assert.deepEqual(t.events, [])
    t.store.put('d', '1')
    // Evicting a dirty entry flushes it first, then every dirty entry of the store, d included (as Kafka Streams).
    assert.deepEqual(
      t.events.map((e) => e[0]),
      ['b', 'a', 'c', 'd']
    )
    assert.deepEqual(
      t.logged().map((r) => r[0]),
      ['b', 'a', 'c', 'd']
    )
    assert.equal(t.store.get('b'), '1', 'an evicted key is read from the store')
    t.store.put('a', '2')
    t.task.commit()
    assert.deepEqual(
      t.events.map((e) => [e[0], e[1]]),
      [
        ['b', '1'],
        ['a', '1'],
        ['c', '1'],
        ['d', '1'],
        ['a', '2']
      ]
    )
  })

  test('sends old values on request; deleting a key the store never had forwards nothing', () => {
    const t = cachedTask(1 << 20, true)
    task = t.task
    t.store.put('a', '1')
    t.task.commit()
    t.store.put('a', '2')
    t.store.delete('a')
    t.store.put('ghost', '1')
    t.store.delete('ghost')
    t.task.commit()
    assert.deepEqual(
      t.events.map((e) => [e[0], e[1], e[2]]),
      [
        ['a', '1', null],
        ['a', null, '1']
      ]
    )
    assert.equal(t.store.get('a'), null)
  })

  test('abort forgets cached updates; they are never forwarded', () => {
    const t = cachedTask(1 << 20)
    task = t.task
    t.store.put('a', '1')
    t.task.manager.abort()
    assert.equal(t.store.get('a'), null)
    t.task.commit()
    assert.deepEqual(t.events, [])
    assert.deepEqual(t.logged(), [])
  })

  test('with cacheMaxBytes 0 (or caching off) the store is not cached and the caller forwards itself', () => {
    const t = cachedTask(0)
    task = t.task
    assert.equal(t.cached, false)
    t.store.put('a', '1')
    assert.deepEqual(t.logged(), [['a', '1']])
  })

  test('window stores are cached too, and the listener gets windowed keys', () => {
    task = new TaskHarness({ cacheMaxBytes: 1 << 20 })
    const windows = task.open(
      windowStoreBuilder({
        name: 'w',
        keySerde: Serdes.string(),
        valueSerde: Serdes.int32(),
        windowSizeMs: 1000,
        retentionMs: 60_000,
        caching: true
      })
    )
    const seen: [string, number, number | null][] = []
    assert.equal(
      windows.setFlushListener((e) => seen.push([e.key.key, e.key.window.start, e.newValue]), false),
      true
    )
    windows.put('k', 1, 0)
    windows.put('k', 2, 0)
    windows.put('k', 1, 1000)
    assert.deepEqual(
      collect(windows.fetch('k', 0, 1000)).map((e) => e.value),
      [2, 1]
    )
    task.commit()
    assert.deepEqual(seen, [
      ['k', 0, 2],
      ['k', 1000, 1]
    ])
  })
})
