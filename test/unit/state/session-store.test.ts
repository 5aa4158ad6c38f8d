import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { Serdes } from '../../../src/serde/index.ts'
import {
  InvalidStoreArgumentError,
  readOnlySessionStore,
  type SessionStore,
  sessionStoreBuilder,
  type Windowed
} from '../../../src/state/index.ts'
import { type Backend, collect, TaskHarness } from './helpers.ts'

const GAP = 1_000
const session = (key: string, start: number, end: number): Windowed<string> => ({ key, window: { start, end } })

function spans(iterable: Iterable<{ key: Windowed<string>; value: number }>): [string, number, number, number][] {
  return collect(iterable).map((e) => [e.key.key, e.key.window.start, e.key.window.end, e.value])
}

for (const backend of ['memory', 'lmdb'] as Backend[]) {
  describe(`session store (${backend})`, () => {
    let task: TaskHarness
    let store: SessionStore<string, number>

    beforeEach(() => {
      task = new TaskHarness()
      store = task.open(
        sessionStoreBuilder({
          name: 'sessions',
          keySerde: Serdes.string(),
          valueSerde: Serdes.int32(),
          retentionMs: 600_000,
          segmentIntervalMs: 60_000,
          persistent: backend === 'lmdb'
        })
      )
    })
    afterEach(() => task.close())

    test('findSessions returns the sessions a new record merges with', () => {
      store.put(session('u', 0, 500), 2)
      store.put(session('u', 3_000, 4_000), 3)
      store.put(session('u', 10_000, 10_000), 1)
      store.put(session('v', 1_000, 2_000), 9)
      task.commit()
      // A record at 2_200 with gap 1_000 merges with sessions ending >= 1_200 and starting <= 3_200.
      assert.deepEqual(spans(store.findSessions('u', 2_200 - GAP, 2_200 + GAP)), [['u', 3_000, 4_000, 3]])
      // At 1_400: ends >= 400 and starts <= 2_400: the first session only.
      assert.deepEqual(spans(store.findSessions('u', 1_400 - GAP, 1_400 + GAP)), [['u', 0, 500, 2]])
      // A wide query (ends >= 400, starts <= 4_000) sees both, ordered by end.
      assert.deepEqual(spans(store.findSessions('u', 400, 4_000)), [
        ['u', 0, 500, 2],
        ['u', 3_000, 4_000, 3]
      ])
      // A session spanning segments (ends far after latestStart) is still found.
      store.put(session('w', 1_000, 150_000), 7)
      assert.deepEqual(spans(store.findSessions('w', 0, 2_000)), [['w', 1_000, 150_000, 7]])
    })

    test('merging: remove the old sessions, put the merged one', () => {
      store.put(session('u', 0, 500), 2)
      store.put(session('u', 1_200, 1_300), 1)
      task.commit()
      const merging = spans(store.findSessions('u', 900 - GAP, 900 + GAP))
      assert.equal(merging.length, 2)
      for (const [key, start, end] of merging) store.remove(session(key, start, end))
      store.put(session('u', 0, 1_300), 4)
      assert.deepEqual(spans(store.fetch('u')), [['u', 0, 1_300, 4]])
      task.commit()
      assert.deepEqual(spans(store.fetch('u')), [['u', 0, 1_300, 4]])
      assert.equal(store.fetchSession('u', 0, 1_300), 4)
      assert.equal(store.fetchSession('u', 0, 500), null)
      assert.deepEqual(spans(readOnlySessionStore(store).all()), [['u', 0, 1_300, 4]])
    })

    test('sessions expire by their end against observed stream time', () => {
      store.put(session('old', 0, 100), 1)
      store.put(session('new', 800_000, 800_000), 2)
      assert.deepEqual(spans(store.all()), [['new', 800_000, 800_000, 2]])
      assert.equal(store.fetchSession('old', 0, 100), null)
      store.put(session('late', 50, 60), 3)
      assert.equal(store.expiredPuts, 1)
    })

    test('invalid sessions are rejected', () => {
      assert.throws(() => store.put(session('u', 10, 5), 1), InvalidStoreArgumentError)
      assert.throws(() => store.put(session('u', -1, 5), 1), /not a valid window/)
    })

    test('changelog keys are key + end + start, and a restore reads them back', () => {
      store.put(session('k', 1_000, 2_000), 5)
      store.remove(session('gone', 1, 2))
      task.commit()
      const records = task.sink.records.filter((r) => r.topic === 'app-sessions-changelog')
      assert.equal(records.length, 2)
      assert.equal(records[0]!.key.length, 1 + 16)
      assert.equal(records[1]!.value, null)
      const copy = task.open(
        sessionStoreBuilder({
          name: 'copy',
          keySerde: Serdes.string(),
          valueSerde: Serdes.int32(),
          retentionMs: 600_000
        })
      )
      task.manager.restore(
        'app-copy-changelog',
        records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp, offset: r.offset }))
      )
      assert.deepEqual(spans(copy.fetch('k')), [['k', 1_000, 2_000, 5]])
    })
  })
}
