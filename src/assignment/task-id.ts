import { InvalidTaskIdError } from './errors.ts'

/**
 * A task: sub-topology `subtopologyId` for partition `partition` of each of its source topics, written
 * `<subtopologyId>_<partition>` (e.g. `0_3`) as in Kafka Streams, so task directories and logs read the same.
 * A string (not an object) so it can key Maps and Sets directly.
 */
export type TaskId = `${number}_${number}`

export interface TaskIdParts {
  subtopologyId: number
  partition: number
}

const TASK_ID = /^(0|[1-9][0-9]*)_(0|[1-9][0-9]*)$/

function checkPart(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidTaskIdError(`${what}=${value}`)
  }
}

export function formatTaskId(subtopologyId: number, partition: number): TaskId {
  checkPart(subtopologyId, 'subtopologyId')
  checkPart(partition, 'partition')
  return `${subtopologyId}_${partition}`
}

/** Parses a task id; rejects leading zeros and signs so every task has exactly one spelling. */
export function parseTaskId(value: string): TaskIdParts {
  const match = TASK_ID.exec(value)
  if (!match) throw new InvalidTaskIdError(value)
  const subtopologyId = Number(match[1])
  const partition = Number(match[2])
  if (!Number.isSafeInteger(subtopologyId) || !Number.isSafeInteger(partition)) throw new InvalidTaskIdError(value)
  return { subtopologyId, partition }
}

export function isTaskId(value: string): value is TaskId {
  const match = TASK_ID.exec(value)
  return match !== null && Number.isSafeInteger(Number(match[1])) && Number.isSafeInteger(Number(match[2]))
}

/**
 * Numeric order (sub-topology, then partition): `2_1` before `10_0`, unlike string order. Every list the assignor
 * emits is sorted with this, which is part of what makes its output deterministic.
 */
export function compareTaskIds(left: TaskId, right: TaskId): number {
  const a = parseTaskId(left)
  const b = parseTaskId(right)
  return a.subtopologyId - b.subtopologyId || a.partition - b.partition
}

/** Sorted, de-duplicated copy. */
export function sortTaskIds(tasks: Iterable<TaskId>): TaskId[] {
  return [...new Set(tasks)].sort(compareTaskIds)
}
