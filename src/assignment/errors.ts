import { StreamlaneError } from '../errors.ts'

/** Which userData message a codec error is about, so the message says what could not be read. */
export type UserDataKind = 'subscription' | 'assignment'

/**
 * userData written by a Streamlane version this one cannot read (a layout change that is not append-only). The
 * message names both versions so an operator sees a mixed-version group at once.
 */
export class UserDataVersionError extends StreamlaneError {
  readonly kind: UserDataKind
  readonly version: number
  readonly minReaderVersion: number
  readonly supportedVersion: number

  constructor(kind: UserDataKind, version: number, minReaderVersion: number, supportedVersion: number) {
    super(
      'STREAMLANE_USERDATA_VERSION_UNSUPPORTED',
      `${kind} userData version ${version} needs a reader of version >= ${minReaderVersion}, but this Streamlane ` +
        `reads up to version ${supportedVersion}: every member of the group must run a compatible Streamlane release`
    )
    this.kind = kind
    this.version = version
    this.minReaderVersion = minReaderVersion
    this.supportedVersion = supportedVersion
  }
}

/** userData that is not Streamlane's (wrong magic byte) or is truncated / malformed. */
export class UserDataCorruptError extends StreamlaneError {
  readonly kind: UserDataKind

  constructor(kind: UserDataKind, detail: string) {
    super('STREAMLANE_USERDATA_CORRUPT', `cannot decode ${kind} userData: ${detail}`)
    this.kind = kind
  }
}

/** A value given to a userData encoder cannot be represented (negative count, lag outside int64, ...). */
export class UserDataEncodeError extends StreamlaneError {
  readonly kind: UserDataKind

  constructor(kind: UserDataKind, detail: string) {
    super('STREAMLANE_USERDATA_ENCODE_INVALID', `cannot encode ${kind} userData: ${detail}`)
    this.kind = kind
  }
}

/** Source topics of one sub-topology have different partition counts, so its tasks cannot be formed. */
export class CoPartitionError extends StreamlaneError {
  readonly subtopologyId: number
  readonly partitionCounts: ReadonlyMap<string, number>

  constructor(subtopologyId: number, partitionCounts: ReadonlyMap<string, number>) {
    const counts = [...partitionCounts].map(([topic, count]) => `${topic}=${count}`).join(', ')
    super(
      'STREAMLANE_COPARTITION_MISMATCH',
      `sub-topology ${subtopologyId} reads co-partitioned topics with different partition counts (${counts}): ` +
        'co-partitioned inputs must have the same number of partitions'
    )
    this.subtopologyId = subtopologyId
    this.partitionCounts = partitionCounts
  }
}

/** A source topic of a sub-topology is not in the cluster metadata (not created yet, or a typo). */
export class SourceTopicMissingError extends StreamlaneError {
  readonly subtopologyId: number
  readonly topics: readonly string[]

  constructor(subtopologyId: number, topics: readonly string[]) {
    super(
      'STREAMLANE_SOURCE_TOPIC_MISSING',
      `sub-topology ${subtopologyId} reads topic(s) ${topics.join(', ')} that do not exist in the cluster metadata`
    )
    this.subtopologyId = subtopologyId
    this.topics = topics
  }
}

/** The assignor was called with input that breaks its contract (duplicate member ids, a topic in two sub-topologies). */
export class AssignmentInputError extends StreamlaneError {
  constructor(message: string) {
    super('STREAMLANE_ASSIGNMENT_INPUT_INVALID', message)
  }
}
