import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ASSIGNMENT_VERSION,
  AssignmentErrorCode,
  assignmentErrorName,
  decodeAssignmentInfo,
  encodeAssignmentInfo,
  encodeSubscriptionInfo,
  UserDataCorruptError,
  UserDataVersionError
} from '../../../src/assignment/index.ts'

test('round trip keeps every field', () => {
  const info = {
    errorCode: AssignmentErrorCode.NONE,
    activeTasks: ['0_0', '1_2'] as const,
    standbyTasks: ['0_5'] as const,
    warmupTasks: ['0_3'] as const,
    partitionsByHost: new Map([
      ['a:1', [{ topic: 'orders', partitions: [0, 2] }]],
      [
        'b:1',
        [
          { topic: 'clicks', partitions: [1] },
          { topic: 'orders', partitions: [1, 3, 100] }
        ]
      ]
    ]),
    standbyPartitionsByHost: new Map([['b:1', [{ topic: 'orders', partitions: [0] }]]]),
    followupRebalance: true,
    nextRebalanceDelayMs: 600_000,
    acceptableRecoveryLag: 10_000n
  }
  const decoded = decodeAssignmentInfo(
    encodeAssignmentInfo({
      ...info,
      activeTasks: [...info.activeTasks],
      standbyTasks: [...info.standbyTasks],
      warmupTasks: [...info.warmupTasks]
    })
  )
  assert.deepEqual(decoded, {
    ...info,
    version: ASSIGNMENT_VERSION,
    activeTasks: ['0_0', '1_2'],
    standbyTasks: ['0_5'],
    warmupTasks: ['0_3']
  })
})

test('an error-only assignment decodes with empty task lists and no rebalance scheduled', () => {
  const decoded = decodeAssignmentInfo(encodeAssignmentInfo({ errorCode: AssignmentErrorCode.COPARTITION_MISMATCH }))
  assert.equal(decoded.errorCode, 3)
  assert.equal(assignmentErrorName(decoded.errorCode), 'COPARTITION_MISMATCH')
  assert.deepEqual(decoded.activeTasks, [])
  assert.equal(decoded.nextRebalanceDelayMs, -1)
  assert.equal(decoded.followupRebalance, false)
})

test('version that needs a newer reader is rejected clearly', () => {
  const bytes = encodeAssignmentInfo({})
  bytes[1] = 9
  bytes[2] = 9
  assert.throws(
    () => decodeAssignmentInfo(bytes),
    (error: unknown) => {
      assert.ok(error instanceof UserDataVersionError)
      assert.equal(error.kind, 'assignment')
      assert.match(error.message, /assignment userData version 9/)
      return true
    }
  )
})

test('subscription bytes are not mistaken for an assignment', () => {
  assert.throws(
    () => decodeAssignmentInfo(encodeSubscriptionInfo({ processId: 'p' })),
    (error: unknown) => error instanceof UserDataCorruptError && /magic byte 0x53/.test(error.message)
  )
})

test('a topic index outside the dictionary is corrupt, not a crash', () => {
  const bytes = encodeAssignmentInfo({ partitionsByHost: new Map([['h:1', [{ topic: 't', partitions: [0] }]]]) })
  // Layout tail: ... topicCount=1, "t", hostCount=1, "h:1", entries=1, topicIndex=0, ...; point the index past it.
  const index = bytes.lastIndexOf(Buffer.from('h:1')) + 4
  assert.equal(bytes[index], 0)
  bytes[index] = 5
  assert.throws(() => decodeAssignmentInfo(bytes), /topic index 5 outside the dictionary/)
})

test('stays small for a 100-member group over 1000 partitions', () => {
  const partitionsByHost = new Map(
    Array.from({ length: 100 }, (_, h) => [
      `streamlane-app-${h}.streamlane-app.default.svc:7070`,
      [{ topic: 'orders', partitions: Array.from({ length: 10 }, (_, i) => h * 10 + i) }]
    ])
  )
  const bytes = encodeAssignmentInfo({ activeTasks: ['0_0'], partitionsByHost })
  assert.ok(bytes.length < 8_000, `${bytes.length} bytes`)
})
