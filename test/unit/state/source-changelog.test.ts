import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes } from '../../../src/serde/index.ts'
import { type TimestampedKeyValueStore, timestampedKeyValueStoreBuilder } from '../../../src/state/index.ts'
import { APP, TaskHarness } from './helpers.ts'

test('a store whose changelog is a source topic restores from it and checkpoints it, but never writes it', async () => {
  const task = new TaskHarness()
  try {
    const builder = timestampedKeyValueStoreBuilder({
      name: 'prices',
      keySerde: Serdes.string(),
      valueSerde: Serdes.int32()
    })
    const store = task.manager.createStore(builder) as TimestampedKeyValueStore<string, number>
    store.init({
      applicationId: APP,
      taskId: task.taskId,
      changelogTopic: 'prices-topic',
      changelogIsSourceTopic: true
    })
    assert.deepEqual(
      task.manager.changelogPartitions().map((p) => [p.topic, p.partition, p.checkpointOffset]),
      [['prices-topic', 3, null]]
    )
    // The source topic's records are plain values: restored as they are, timestamp from the record.
    const four = Buffer.alloc(4)
    four.writeInt32BE(4)
    task.manager.restore('prices-topic', [{ key: Buffer.from('apple'), value: four, timestamp: 77, offset: 9n }])
    assert.deepEqual(store.get('apple'), { value: 4, timestamp: 77 })
    store.put('pear', { value: 5, timestamp: 80 })
    assert.equal(task.sink.records.length, 0, 'nothing is written to the source topic')
    task.manager.commit(new Map([['prices-topic', 12n]]))
    assert.deepEqual(task.manager.checkpoints(), [{ topic: 'prices-topic', partition: 3, offset: 12n }])
  } finally {
    await task.close()
  }
})
