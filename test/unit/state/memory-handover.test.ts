/**
 * A standby of an in-memory store promoted to active in the same process: the standby's manager hands its in-memory
 * backends over, and the active task's manager opens its stores on them, so the active task restores only what the
 * standby had not applied (as for LMDB stores, whose data stays on disk) instead of the whole changelog.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes } from '../../../src/serde/index.ts'
import { keyValueStoreBuilder, type LayeredKeyValueStore, TaskStateManager } from '../../../src/state/index.ts'
import { TaskId } from '../../../src/task-id.ts'
import { CapturingSink } from './helpers.ts'

const CHANGELOG = 'app-counts-changelog'
const taskId = new TaskId(1, 3)
const builder = () =>
  keyValueStoreBuilder({ name: 'counts', keySerde: Serdes.string(), valueSerde: Serdes.string(), persistent: false })
type Store = LayeredKeyValueStore<string, string>

/** Changelog records as an active task writes them: the bytes a standby reads and applies. */
function changelogOf(
  entries: [string, string][]
): { key: Buffer; value: Buffer | null; timestamp: number; offset: bigint }[] {
  const sink = new CapturingSink()
  const writer = new TaskStateManager({ applicationId: 'app', taskId, changelogSink: sink })
  const store = writer.openStore(builder(), CHANGELOG) as Store
  for (const [key, value] of entries) store.put(key, value)
  writer.flush()
  return sink.records.map(({ key, value, timestamp, offset }) => ({ key, value, timestamp, offset }))
}

test('a promoted standby hands its in-memory stores to the active task: data and checkpoint, no restore from 0', async () => {
  const standby = new TaskStateManager({ applicationId: 'app', taskId })
  standby.openStore(builder(), CHANGELOG)
  standby.restore(
    CHANGELOG,
    changelogOf([
      ['a', '1'],
      ['b', '2'],
      ['a', '3']
    ])
  )
  assert.deepEqual(
    standby.changelogPartitions().map((p) => p.checkpointOffset),
    [3n]
  )

  const handed = standby.handOverMemoryStores()
  assert.deepEqual([...handed.keys()], ['counts'])
  await standby.close()

  const active = new TaskStateManager({ applicationId: 'app', taskId, memoryBackends: handed })
  const store = active.openStore(builder(), CHANGELOG) as Store
  assert.deepEqual(
    active.changelogPartitions().map((p) => p.checkpointOffset),
    [3n],
    'the active task restores from offset 3, not from the beginning'
  )
  assert.equal(store.get('a'), '3')
  assert.equal(store.get('b'), '2')
  await active.close()
})

test('without a hand-over (a dropped standby, a new task) an in-memory store starts empty', async () => {
  const standby = new TaskStateManager({ applicationId: 'app', taskId })
  standby.openStore(builder(), CHANGELOG)
  standby.restore(CHANGELOG, changelogOf([['a', '1']]))
  await standby.close()
  const active = new TaskStateManager({ applicationId: 'app', taskId })
  const store = active.openStore(builder(), CHANGELOG) as Store
  assert.deepEqual(
    active.changelogPartitions().map((p) => p.checkpointOffset),
    [null]
  )
  assert.equal(store.get('a'), null)
  await active.close()
})
