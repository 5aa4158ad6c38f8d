import assert from 'node:assert/strict'
import { test } from 'node:test'
import { diffAssignment, revokedPartitions, revokedTasks } from '../../../src/assignment/index.ts'

test('diff says what to commit, close, promote, demote and start', () => {
  const previous = {
    activeTasks: ['0_0', '0_1', '0_2'] as const,
    standbyTasks: ['1_0', '1_1'] as const,
    warmupTasks: ['1_5'] as const
  }
  const next = {
    activeTasks: ['0_0', '1_0'] as const,
    standbyTasks: ['0_1', '1_7'] as const,
    warmupTasks: ['1_5'] as const
  }
  assert.deepEqual(diffAssignment(previous, next), {
    revokedActive: ['0_1', '0_2'],
    addedActive: ['1_0'],
    keptActive: ['0_0'],
    promoted: ['1_0'],
    demoted: ['0_1'],
    revokedStandby: ['1_1'],
    addedStandby: ['1_7']
  })
  assert.deepEqual(revokedTasks(previous, next), ['0_1', '0_2'])
})

test('revoked partitions, grouped by topic', () => {
  assert.deepEqual(
    revokedPartitions(
      [
        { topic: 'b', partitions: [0, 1] },
        { topic: 'a', partitions: [3, 1] }
      ],
      [{ topic: 'b', partitions: [1] }]
    ),
    [
      { topic: 'a', partitions: [1, 3] },
      { topic: 'b', partitions: [0] }
    ]
  )
})
