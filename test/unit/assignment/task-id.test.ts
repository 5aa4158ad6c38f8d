import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  compareTaskIds,
  formatTaskId,
  InvalidTaskIdError,
  isTaskId,
  parseTaskId,
  sortTaskIds
} from '../../../src/assignment/index.ts'
import { TaskId } from '../../../src/topology/index.ts'

test('formats and parses <subtopology>_<partition>', () => {
  assert.equal(formatTaskId(0, 3), '0_3')
  assert.deepEqual(parseTaskId('12_40'), { subtopologyId: 12, partition: 40 })
  assert.equal(isTaskId('1_2'), true)
})

test('rejects anything that is not exactly two non-negative integers', () => {
  for (const bad of ['', '1', '1_', '_1', '1_2_3', '-1_2', '01_2', '1_02', 'a_b', ' 1_2', '1.5_2']) {
    assert.equal(isTaskId(bad), false, bad)
    assert.throws(
      () => parseTaskId(bad),
      (error: unknown) => {
        assert.ok(error instanceof InvalidTaskIdError)
        assert.equal(error.code, 'STREAMLANE_TASK_ID_INVALID')
        assert.match(error.message, /<subtopologyId>_<partition>/)
        return true
      }
    )
  }
  assert.throws(() => formatTaskId(-1, 0), InvalidTaskIdError)
  assert.throws(() => formatTaskId(0, 1.5), InvalidTaskIdError)
})

test('orders numerically, not as strings', () => {
  assert.ok(compareTaskIds('2_1', '10_0') < 0)
  assert.ok(compareTaskIds('1_9', '1_10') < 0)
  assert.deepEqual(sortTaskIds(['10_0', '1_10', '1_9', '2_1', '1_9']), ['1_9', '1_10', '2_1', '10_0'])
})

test('the TaskId object and its text are one: String(id) parses back, and the same spellings are refused', () => {
  const id = new TaskId(2, 10)
  assert.equal(String(id), formatTaskId(2, 10))
  assert.ok(TaskId.parse(String(id)).equals(id))
  for (const bad of ['01_2', '-1_0', '1_', 'x']) assert.throws(() => TaskId.parse(bad), InvalidTaskIdError)
  assert.throws(() => new TaskId(0, -1), InvalidTaskIdError)
})
