import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { StoreOperationMetrics } from '../../../src/observe/store-operation-metrics.ts'
import { Serdes } from '../../../src/serde/index.ts'
import { type KeyValueStore, keyValueStoreBuilder, TaskStateManager } from '../../../src/state/index.ts'
import { MemoryBackend } from '../../../src/state/memory-backend.ts'
import { MeteredLayer, type StoreMetering, type StoreOperation } from '../../../src/state/metered-layer.ts'
import { PendingWrites } from '../../../src/state/pending-writes.ts'
import { TaskId } from '../../../src/task-id.ts'

/** Records what the layer reports. */
function recordingMetering(sampleEvery: number) {
  const recorded: { store: string; operation: StoreOperation; seconds: number; weight: number }[] = []
  const metering: StoreMetering = {
    sampleEvery,
    forStore: (store) => ({
      record: (operation, seconds, weight) => recorded.push({ store, operation, seconds, weight })
    })
  }
  return { metering, recorded }
}

const key = (i: number) => Buffer.from(`k${String(i).padStart(3, '0')}`)

test('times one operation in sampleEvery of each kind, each standing for sampleEvery, whatever the interleaving', () => {
  const { metering, recorded } = recordingMetering(4)
  const layer = new MeteredLayer(new PendingWrites(new MemoryBackend('test')), metering, 'counts')
  // A count processor's pattern: get then put, for each record. Counting kinds apart samples both.
  for (let i = 0; i < 16; i++) {
    layer.get(key(i))
    layer.put(key(i), Buffer.from('1'), 0)
  }
  const by = (operation: StoreOperation) => recorded.filter((r) => r.operation === operation)
  assert.equal(by('get').length, 4)
  assert.equal(by('put').length, 4)
  assert.ok(recorded.every((r) => r.store === 'counts' && r.weight === 4 && r.seconds >= 0))
  assert.equal(layer.get(key(3))?.toString(), '1', 'operations go through unchanged')
})

test('a range is timed from its creation until it is exhausted, or closed early, once', () => {
  const { metering, recorded } = recordingMetering(1)
  const layer = new MeteredLayer(new PendingWrites(new MemoryBackend('test')), metering, 'windows')
  for (let i = 0; i < 5; i++) layer.put(key(i), Buffer.from('v'), 0)
  recorded.length = 0

  const all = layer.range(undefined, undefined, false)
  let seen = 0
  for (let step = all.next(); !step.done; step = all.next()) seen++
  assert.equal(seen, 5)
  all.next()
  assert.deepEqual(
    recorded.map((r) => r.operation),
    ['range']
  )

  const early = layer.range(key(1), key(3), false)
  assert.equal(early.next().value?.key.toString(), 'k001')
  assert.equal(recorded.length, 1, 'not timed while open')
  early.return?.()
  early.return?.()
  assert.equal(recorded.length, 2)
})

test('sampleEvery must be a power of two', () => {
  for (const sampleEvery of [0, 3, 1.5]) {
    assert.throws(
      () =>
        new MeteredLayer(new PendingWrites(new MemoryBackend('test')), recordingMetering(sampleEvery).metering, 's'),
      /power of two/
    )
  }
})

test('stores of a task with metering feed the store operation histogram, with estimated counts', async () => {
  const metrics = new StoreOperationMetrics(2)
  const registry = new Registry()
  metrics.register(registry)
  const manager = new TaskStateManager({ applicationId: 'app', taskId: new TaskId(0, 0), metering: metrics })
  const store = manager.createStore(
    keyValueStoreBuilder({ name: 'counts', keySerde: Serdes.string(), valueSerde: Serdes.string(), persistent: false })
  ) as KeyValueStore<string, string>
  store.init({ applicationId: 'app', taskId: new TaskId(0, 0), changelogTopic: null })
  for (let i = 0; i < 10; i++) store.put(`k${i}`, String(i))
  for (let i = 0; i < 6; i++) store.get(`k${i}`)
  const text = await registry.metrics()
  assert.match(text, /^streamlane_state_store_operation_duration_seconds_count\{store="counts",operation="put"\} 10$/m)
  assert.match(text, /^streamlane_state_store_operation_duration_seconds_count\{store="counts",operation="get"\} 6$/m)
  assert.doesNotMatch(text, /operation="range"/, 'no series for an operation the store did not do')
  await manager.close()
})
