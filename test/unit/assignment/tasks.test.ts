import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  AssignmentInputError,
  CoPartitionError,
  deriveTasks,
  partitionsOfTasks,
  resolveSubtopologyPartitions,
  SourceTopicMissingError
} from '../../../src/assignment/index.ts'

test('a task owns partition p of every source topic of its sub-topology (co-partitioning)', () => {
  const subtopologies = resolveSubtopologyPartitions(
    [
      { subtopologyId: 1, sourceTopics: ['orders', 'customers'], stateful: true },
      { subtopologyId: 0, sourceTopics: ['clicks'], stateful: false }
    ],
    (topic) => ({ orders: 3, customers: 3, clicks: 2 })[topic]
  )
  const tasks = deriveTasks(subtopologies)
  assert.deepEqual(
    tasks.map((task) => task.id),
    ['0_0', '0_1', '1_0', '1_1', '1_2']
  )
  const task = tasks.find((t) => t.id === '1_2')!
  assert.deepEqual(task.sourceTopics, ['customers', 'orders'])
  assert.equal(task.stateful, true)
  assert.deepEqual(partitionsOfTasks(tasks.filter((t) => t.subtopologyId === 1 && t.partition !== 1)), [
    { topic: 'customers', partitions: [0, 2] },
    { topic: 'orders', partitions: [0, 2] }
  ])
})

test('co-partitioned topics with different partition counts are a clear error', () => {
  assert.throws(
    () =>
      resolveSubtopologyPartitions([{ subtopologyId: 2, sourceTopics: ['a', 'b'], stateful: true }], (topic) =>
        topic === 'a' ? 4 : 6
      ),
    (error: unknown) => {
      assert.ok(error instanceof CoPartitionError)
      assert.equal(error.code, 'STREAMLANE_COPARTITION_MISMATCH')
      assert.match(error.message, /sub-topology 2/)
      assert.match(error.message, /a=4, b=6/)
      return true
    }
  )
})

test('a missing source topic names the topic', () => {
  assert.throws(
    () =>
      resolveSubtopologyPartitions([{ subtopologyId: 0, sourceTopics: ['x', 'y'], stateful: false }], () => undefined),
    (error: unknown) => {
      assert.ok(error instanceof SourceTopicMissingError)
      assert.equal(error.code, 'STREAMLANE_SOURCE_TOPIC_MISSING')
      assert.deepEqual(error.topics, ['x', 'y'])
      return true
    }
  )
})

test('a topic can be the source of one sub-topology only; ids are unique', () => {
  assert.throws(
    () =>
      deriveTasks([
        { subtopologyId: 0, sourceTopics: ['a'], partitions: 1, stateful: false },
        { subtopologyId: 1, sourceTopics: ['a'], partitions: 1, stateful: false }
      ]),
    AssignmentInputError
  )
  assert.throws(
    () =>
      deriveTasks([
        { subtopologyId: 0, sourceTopics: ['a'], partitions: 1, stateful: false },
        { subtopologyId: 0, sourceTopics: ['b'], partitions: 1, stateful: false }
      ]),
    /used twice/
  )
})
