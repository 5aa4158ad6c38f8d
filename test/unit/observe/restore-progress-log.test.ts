import assert from 'node:assert/strict'
import { test } from 'node:test'
import { restoreProgressLogger } from '../../../src/observe/restore-progress-log.ts'
import type { TaskRestoreProgress } from '../../../src/runtime/state-restorer.ts'

const progress = (taskId: string, recordsDone: number, finished = false): TaskRestoreProgress => ({
  taskId,
  recordsDone,
  recordsTotal: 1_000,
  recordsRestored: recordsDone,
  bytes: recordsDone * 10,
  elapsedMs: 0,
  recordsPerSecond: 100,
  finished
})

test('progress is logged at most once per interval per task, not at start or end', () => {
  let now = 0
  const lines: Record<string, unknown>[] = []
  const log = restoreProgressLogger({ info: (fields) => lines.push(fields) }, { intervalMs: 5_000, now: () => now })
  log(progress('0_0', 0))
  log(progress('0_1', 0))
  now = 1_000
  log(progress('0_0', 100))
  assert.equal(lines.length, 0, 'nothing within the first interval')
  now = 5_000
  log(progress('0_0', 500))
  log(progress('0_1', 400))
  now = 6_000
  log(progress('0_0', 600))
  assert.deepEqual(
    lines.map((l) => [l.task, l.recordsDone]),
    [
      ['0_0', 500],
      ['0_1', 400]
    ]
  )
  assert.equal(lines[0]!.secondsLeft, 5)
  now = 20_000
  log(progress('0_0', 1_000, true))
  assert.equal(lines.length, 2, 'the end has its own log line')
})
