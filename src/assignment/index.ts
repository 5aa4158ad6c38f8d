/**
 * Streamlane's task assignment: pure functions from group members, tasks and lags to active / standby / warm-up
 * placement, and the userData codecs the group protocol carries. No I/O, no timers, no Kafka client.
 */

export {
  compareTaskIds,
  formatTaskId,
  InvalidTaskIdError,
  isTaskId,
  parseTaskId,
  sortTaskIds,
  type TaskIdParts,
  type TaskIdText
} from '../task-id.ts'
export {
  type AssignTasksInput,
  assignTasks,
  type MemberTaskAssignment,
  type TaskAssignmentResult
} from './assign-tasks.ts'
export {
  type AssignmentDiff,
  diffAssignment,
  revokedPartitions,
  revokedTasks,
  type TaskRoles
} from './assignment-diff.ts'
export {
  ASSIGNMENT_VERSION,
  AssignmentErrorCode,
  type AssignmentInfo,
  type AssignmentInfoInput,
  assignmentErrorName,
  decodeAssignmentInfo,
  encodeAssignmentInfo
} from './assignment-info.ts'
export { type AssignorConfig, DEFAULT_ASSIGNOR_CONFIG, resolveAssignorConfig } from './config.ts'
export {
  AssignmentInputError,
  CoPartitionError,
  SourceTopicMissingError,
  UserDataCorruptError,
  UserDataEncodeError,
  type UserDataKind,
  UserDataVersionError
} from './errors.ts'
export type { AssignorMember } from './group-view.ts'
export {
  createLeaderAssignor,
  type GroupMemberAssignment,
  type GroupMemberSubscription,
  type LeaderAssignmentOutcome,
  type LeaderAssignor,
  type LeaderAssignorOptions,
  type LeaderContext
} from './leader-assignor.ts'
export {
  decodeSubscriptionInfo,
  encodeSubscriptionInfo,
  SUBSCRIPTION_VERSION,
  type SubscriptionInfo,
  type SubscriptionInfoInput
} from './subscription-info.ts'
export {
  deriveTasks,
  partitionsOfTasks,
  resolveSubtopologyPartitions,
  type SubtopologySource,
  type SubtopologySpec,
  type TaskSpec,
  type TopicPartitions
} from './tasks.ts'
