import { StreamlaneError } from '../errors.ts'

/**
 * `streamlane reset` refuses while the app's consumer group has members, as Kafka Streams' reset tool does: a
 * running instance would commit its old positions over the reset and keep writing to the topics being deleted.
 */
export class ResetGroupActiveError extends StreamlaneError {
  readonly groupId: string

  constructor(groupId: string, state: string, members: readonly { memberId: string; groupInstanceId?: string }[]) {
    const names = members.map((m) => m.groupInstanceId ?? m.memberId).join(', ')
    super(
      'STREAMLANE_RESET_GROUP_ACTIVE',
      `cannot reset: consumer group ${groupId} has ${members.length} active member${members.length === 1 ? '' : 's'} ` +
        `(${names}; group state ${state}). Stop every instance of the app first; a static member ` +
        '(groupInstanceId) that closed without leaving stays until its session timeout expires'
    )
    this.groupId = groupId
  }
}
