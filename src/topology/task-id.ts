import { StreamlaneError } from '../errors.ts'

/**
 * A task: one sub-topology applied to one partition number of its input topics. Written `<subtopology>_<partition>`
 * (as Kafka Streams does) in logs, state directories and assignments.
 */
export class TaskId {
  readonly subtopology: number
  readonly partition: number

  constructor(subtopology: number, partition: number) {
    if (!Number.isInteger(subtopology) || subtopology < 0 || !Number.isInteger(partition) || partition < 0) {
      throw new StreamlaneError('STREAMLANE_TASK_ID_INVALID', `invalid task id ${subtopology}_${partition}`)
    }
    this.subtopology = subtopology
    this.partition = partition
  }

  static parse(text: string): TaskId {
    const match = /^(\d+)_(\d+)$/.exec(text)
    if (!match)
      throw new StreamlaneError(
        'STREAMLANE_TASK_ID_INVALID',
        `invalid task id "${text}": expected <subtopology>_<partition>`
      )
    return new TaskId(Number(match[1]), Number(match[2]))
  }

  equals(other: TaskId): boolean {
    return this.subtopology === other.subtopology && this.partition === other.partition
  }

  toString(): string {
    return `${this.subtopology}_${this.partition}`
  }

  toJSON(): string {
    return this.toString()
  }
}
