import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { Serdes } from '../../../src/serde/index.ts'
import {
  InvalidStoreArgumentError,
  type KeyValueStore,
  keyValueStoreBuilder,
  readOnlyKeyValueStore,
  StoreNotAttachedError,
  timestampedKeyValueStoreBuilder
} from '../../../src/state/index.ts'
import { TaskId } from '../../../src/task-id.ts'
import { type Backend, collect, TaskHarness } from './helpers.ts'

function keys<K, V>(iterable: Iterable<{ key: K; value: V }>): K[] {
  return collect(iterable).map((e) => e.key)
}

for (const backend of ['memory', 'lmdb'] as Backend[]) {
  describe(`key-value store (${backend})`, () => {
    let task: TaskHarness
    let store: KeyValueStore<string, string>
    const persistent = backend === 'lmdb'

    beforeEach(() => {
      task = new TaskHarness()
      store = task.open(
        keyValueStoreBuilder({ name: 'kv', keySerde: Serdes.string(), valueSerde: Serdes.string(), persistent })
      )
    })
    afterEach(() => task.close())

    test('get, put, putIfAbsent, putAll, delete, before and after a commit', () => {
      assert.equal(store.get('a'), null)
      store.put('a', '1')
      assert.equal(store.get('a'), '1')
      assert.equal(store.putIfAbsent('a', 'x'), '1')
      assert.equal(store.putIfAbsent('b', '2'), null)
      store.putAll([
        { key: 'c', value: '3' },
        { key: 'd', value: '4' }
      ])
      task.commit()
      assert.deepEqual(
        collect(store.all()).map((e) => [e.key, e.value]),
        [
          ['a', '1'],
          ['b', '2'],
          ['c', '3'],
          ['d', '4']
        ]
      )
      assert.equal(store.delete('c'), '3')
      assert.equal(store.delete('c'), null)
      store.put('d', null)
      assert.equal(store.get('c'), null)
      assert.equal(store.get('d'), null)
      assert.deepEqual(keys(store.all()), ['a', 'b'])
      task.commit()
      assert.deepEqual(keys(store.all()), ['a', 'b'])
      assert.equal(store.approximateNumEntries(), 2)
    })

    test('reads merge uncommitted writes over committed data (read-your-writes)', () => {
      for (const k of ['a', 'c', 'e']) store.put(k, 'committed')
      task.commit()
      store.put('b', 'pending')
      store.put('c', 'updated')
      store.delete('e')
      assert.deepEqual(
        collect(store.all()).map((e) => [e.key, e.value]),
        [
          ['a', 'committed'],
          ['b', 'pending'],
          ['c', 'updated']
        ]
      )
      assert.deepEqual(keys(store.reverseAll()), ['c', 'b', 'a'])
      assert.equal(store.approximateNumEntries(), 3)
    })

    test('range and reverseRange are inclusive, by key bytes, and empty when from > to', () => {
      for (const k of ['a', 'ab', 'abc', 'b', 'ba', 'c']) store.put(k, k)
      task.commit()
      store.put('aa', 'aa') // pending, must merge in order
      assert.deepEqual(keys(store.range('ab', 'ba')), ['ab', 'abc', 'b', 'ba'])
      assert.deepEqual(keys(store.reverseRange('ab', 'ba')), ['ba', 'b', 'abc', 'ab'])
      assert.deepEqual(keys(store.range(null, 'ab')), ['a', 'aa', 'ab'])
      assert.deepEqual(keys(store.range('b', null)), ['b', 'ba', 'c'])
      assert.deepEqual(keys(store.reverseRange(null, 'aa')), ['aa', 'a'])
      assert.deepEqual(keys(store.reverseRange('bb', null)), ['c'])
      assert.deepEqual(keys(store.reverseRange('a', 'bz')), ['ba', 'b', 'abc', 'ab', 'aa', 'a'])
      assert.deepEqual(keys(store.reverseRange('aaa', 'abd')), ['abc', 'ab'])
      assert.deepEqual(keys(store.range('abd', 'az')), [])
      assert.deepEqual(keys(store.range('c', 'a')), [])
      assert.deepEqual(keys(store.range('0', '1')), [])
    })

    test('prefixScan returns keys with the serialized prefix, in order', () => {
      for (const k of ['user:2', 'user:10', 'user:1', 'usera', 'use', 'v']) store.put(k, k)
      task.commit()
      store.put('user:05', 'x')
      assert.deepEqual(keys(store.prefixScan('user:', Serdes.string())), ['user:05', 'user:1', 'user:10', 'user:2'])
      assert.deepEqual(keys(store.prefixScan('zzz', Serdes.string())), [])
    })

    test('order is unsigned byte order of the serialized key, not numeric order', () => {
      const ints = task.open(
        keyValueStoreBuilder({ name: 'ints', keySerde: Serdes.int32(), valueSerde: Serdes.int32(), persistent })
      )
      for (const n of [1, -1, 256, 0, -256, 2 ** 31 - 1]) ints.put(n, n)
      // Big-endian two's complement: non-negative numbers first (0x00..), then negatives (0xff..).
      assert.deepEqual(keys(ints.all()), [0, 1, 256, 2 ** 31 - 1, -256, -1])
      task.commit()
      assert.deepEqual(keys(ints.all()), [0, 1, 256, 2 ** 31 - 1, -256, -1])
    })

    test('the empty key is a key like any other', () => {
      store.put('', 'empty')
      store.put('a', 'a')
      task.commit()
      assert.equal(store.get(''), 'empty')
      assert.deepEqual(keys(store.all()), ['', 'a'])
      assert.deepEqual(keys(store.range('', '')), [''])
    })

    test('iterators peek, close, and survive writes between next() calls', () => {
      for (const k of ['a', 'b', 'c', 'd']) store.put(k, k)
      task.commit()
      const iterator = store.all()
      assert.equal(iterator.peekNextKey(), 'a')
      assert.equal(iterator.next().value?.key, 'a')
      store.delete('b')
      store.put('bb', 'bb')
      const rest = keys(iterator)
      assert.ok(rest.includes('c') && rest.includes('d'), `rest: ${rest.join(',')}`)
      assert.equal(iterator.next().done, true)
      const early = store.all()
      early.next()
      early.close()
      assert.equal(early.next().done, true)
    })

    test('null keys and oversized keys are rejected with the store name', () => {
      assert.throws(() => store.put(null as unknown as string, 'x'), InvalidStoreArgumentError)
      assert.throws(() => store.get(undefined as unknown as string), /state store kv: keys cannot be null/)
      if (persistent) {
        assert.throws(
          () => store.put('k'.repeat(5000), 'x'),
          /state store kv: a key of 5000 serialized bytes is too large/
        )
      } else {
        store.put('k'.repeat(5000), 'x')
      }
    })

    test('a read-only view reads the same data and has no writes', () => {
      store.put('a', '1')
      const view = readOnlyKeyValueStore(store)
      assert.equal(view.get('a'), '1')
      assert.deepEqual(keys(view.all()), ['a'])
      assert.equal((view as unknown as Record<string, unknown>).put, undefined)
    })

    test('abort drops the writes since the last commit', () => {
      store.put('a', '1')
      task.commit()
      store.put('a', '2')
      store.put('b', '2')
      task.manager.abort()
      assert.equal(store.get('a'), '1')
      assert.deepEqual(keys(store.all()), ['a'])
    })

    test('timestamped store keeps value and timestamp; its changelog holds the plain value', () => {
      const tables = task.open(
        timestampedKeyValueStoreBuilder({
          name: 'table',
          keySerde: Serdes.string(),
          valueSerde: Serdes.string(),
          persistent
        })
      )
      tables.put('k', { value: 'v', timestamp: 42 })
      task.commit()
      assert.deepEqual(tables.get('k'), { value: 'v', timestamp: 42 })
      const logged = task.sink.records.filter((r) => r.topic === 'app-table-changelog')
      assert.equal(logged.length, 1)
      assert.equal(logged[0]!.value!.toString(), 'v')
      assert.equal(logged[0]!.timestamp, 42)
    })
  })
}

describe('key-value store without a task state manager', () => {
  test('an in-memory store works unattached and commits on flush (the test driver default)', () => {
    const store = keyValueStoreBuilder({
      name: 'plain',
      keySerde: Serdes.string(),
      valueSerde: Serdes.string(),
      persistent: false
    }).build()
    store.init({ applicationId: 'app', taskId: new TaskId(0, 0), changelogTopic: 'app-plain-changelog' })
    store.put('a', '1')
    store.flush()
    assert.equal(store.get('a'), '1')
    store.close()
    assert.throws(() => store.get('a'), /state store plain: the store is closed/)
  })

  test('a persistent store refuses to open without a state directory, saying how to fix it', () => {
    const store = keyValueStoreBuilder({ name: 'disk', keySerde: Serdes.string(), valueSerde: Serdes.string() }).build()
    assert.throws(
      () => store.init({ applicationId: 'app', taskId: new TaskId(0, 0), changelogTopic: null }),
      (error: unknown) => error instanceof StoreNotAttachedError && /TaskStateManager\.createStore/.test(error.message)
    )
  })
})
