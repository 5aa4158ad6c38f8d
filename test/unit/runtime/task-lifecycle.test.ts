/**
 * TaskLifecycle around a fencing: closing every task uncommitted leaves no partition assigned to the reader, also
 * not one whose task closed earlier in a callback the fencing cut short (lost tasks whose abort found the producer
 * fenced). Such a partition would keep its old position and pause when its task came back, and never be read.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { KafkaPartitionReader } from '../../../src/kafka/partition-reader.ts'
import type { TopicPartition } from '../../../src/kafka/types.ts'
import { TaskLifecycle, type TaskLifecycleOptions } from '../../../src/runtime/active-task-lifecycle.ts'
import type { TaskManager } from '../../../src/runtime/task-manager.ts'

const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as TaskLifecycleOptions['logger']

test('closing every task uncommitted stops reading every partition, a lost task left behind included', async () => {
  const assigned = new Map<string, TopicPartition>()
  const key = ({ topic, partition }: TopicPartition) => `${topic}-${partition}`
  for (const tp of [
    { topic: 'lines', partition: 0 },
    { topic: 'lines', partition: 1 }
  ])
    assigned.set(key(tp), tp)
  const reader: TaskLifecycleOptions['reader'] = {
    assign: async () => {},
    unassign: (partitions) => {
      for (const tp of partitions) assigned.delete(key(tp))
    },
    assignment: () => [...assigned.values()],
    pause: () => {},
    resume: () => {},
    drainedPosition: () => undefined
  } satisfies Partial<KafkaPartitionReader>
  // The tasks of these partitions were closed already (lost); no task is left to name them.
  const tasks = { taskIds: [] as string[] } as unknown as TaskManager
  const lifecycle = new TaskLifecycle({
    applicationId: 'app',
    cacheMaxBytes: 0,
    tasks,
    reader,
    group: { fetchOffsets: async () => [] },
    collector: { send: () => {} },
    statefulSubtopologies: new Set(),
    stateDir: undefined,
    restorer: undefined,
    logger: silent
  })
  await lifecycle.closeAllUncommitted()
  assert.deepEqual([...assigned.keys()], [])
})
