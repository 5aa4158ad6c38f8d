import { StreamlaneError } from './errors.ts'

/**
 * A task: one sub-topology applied to one partition number of its input topics (as in Kafka Streams). The one
 * definition every layer shares: `TaskId` is what processors, stores and the runtime hold; its text `<subtopology>_
 * <partition>` (`TaskIdText`, e.g. `0_3`) is how assignments, userData, logs and task directories write it, and the
 * assignor keys its Maps and Sets with it.
 */
export type TaskIdText = `${number}_${number}`

export interface TaskIdParts {
  subtopologyId: number
  partition: number
}

/** A string that should be a task id (`<subtopologyId>_<partition>`) is not one. */
export class InvalidTaskIdError extends StreamlaneError {
  readonly value: string

  constructor(value: string) {
    super(
      'STREAMLANE_TASK_ID_INVALID',
      `invalid task id "${value}": expected "<subtopologyId>_<partition>" with two non-negative integers, e.g. "0_3"`
    )
    this.value = value
  }
}

const TASK_ID = /^(0|[1-9][0-9]*)_(0|[1-9][0-9]*)$/

function checkPart(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidTaskIdError(`${what}=${value}`)
  }
}

export function formatTaskId(subtopologyId: number, partition: number): TaskIdText {
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

export function isTaskId(value: string): value is TaskIdText {
  const match = TASK_ID.exec(value)
  return match !== null && Number.isSafeInteger(Number(match[1])) && Number.isSafeInteger(Number(match[2]))
}

/**
 * Numeric order (sub-topology, then partition): `2_1` before `10_0`, unlike string order. Every list the assignor
 * emits is sorted with this, which is part of what makes its output deterministic.
 */
export function compareTaskIds(left: TaskIdText, right: TaskIdText): number {
  const a = parseTaskId(left)
  const b = parseTaskId(right)
  return a.subtopologyId - b.subtopologyId || a.partition - b.partition
}

/** Sorted, de-duplicated copy. */
export function sortTaskIds(tasks: Iterable<TaskIdText>): TaskIdText[] {
  return [...new Set(tasks)].sort(compareTaskIds)
}

/** A task as an object, for processors, stores and the runtime: `String(taskId)` is its `TaskIdText`. */
export class TaskId {
  readonly subtopology: number
  readonly partition: number

  constructor(subtopology: number, partition: number) {
    checkPart(subtopology, 'subtopologyId')
    checkPart(partition, 'partition')
    this.subtopology = subtopology
    this.partition = partition
  }

  static parse(text: string): TaskId {
    const { subtopologyId, partition } = parseTaskId(text)
    return new TaskId(subtopologyId, partition)
  }

  equals(other: TaskId): boolean {
    return this.subtopology === other.subtopology && this.partition === other.partition
  }

  toString(): TaskIdText {
    return `${this.subtopology}_${this.partition}`
  }

  toJSON(): TaskIdText {
    return this.toString()
  }
}
