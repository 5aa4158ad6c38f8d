/**
 * GET /status's task part: a person sees this instance's active tasks (restoring or not), its standby and warm-up
 * copies with their lags, and, when the group publishes endpoints, which instance holds which copies.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RunningApp } from '../../../src/runtime/running-app.ts'
import { taskStatus } from '../../../src/runtime/task-status.ts'

test('/status lists active tasks, standby and warm-up copies with their lags, and the group placement', () => {
  const running = {
    member: { generation: { generationId: 7 } },
    tasks: { taskIds: ['0_0', '0_1'], isRestoring: (task: string) => task === '0_1' },
    replicas: {
      standbys: {
        status: () => [
          { taskId: '0_2', kind: 'standby', lag: 3n, applied: 1_000 },
          { taskId: '0_3', kind: 'warmup', lag: undefined, applied: 0 }
        ]
      }
    }
  } as unknown as RunningApp
  const hostMap = {
    active: new Map([['a:8080', [{ topic: 'in', partitions: [0, 1] }]]]),
    standby: new Map([['a:8080', [{ topic: 'in', partitions: [2] }]]])
  }
  const status = taskStatus({
    state: () => 'RUNNING',
    processId: () => 'p1',
    running: () => running,
    hostMap: () => hostMap as never
  })
  assert.deepEqual(status, {
    state: 'RUNNING',
    processId: 'p1',
    generation: 7,
    active: [
      { task: '0_0', restoring: false },
      { task: '0_1', restoring: true }
    ],
    replicas: [
      { task: '0_2', kind: 'standby', lag: 3, applied: 1_000 },
      { task: '0_3', kind: 'warmup', lag: null, applied: 0 }
    ],
    group: {
      active: { 'a:8080': [{ topic: 'in', partitions: [0, 1] }] },
      standby: { 'a:8080': [{ topic: 'in', partitions: [2] }] }
    }
  })
  // Without published endpoints there is no placement to show.
  const alone = taskStatus({
    state: () => 'RUNNING',
    processId: () => 'p1',
    running: () => running,
    hostMap: () => undefined
  })
  assert.equal(alone.group, null)
})
