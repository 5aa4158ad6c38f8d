import type { GroupCoordinator } from './coordinator.ts'
import { GroupError } from './errors.ts'
import { describeKafkaError, kafkaErrorName } from './kafka-error.ts'

/**
 * LeaveGroup, so the group rebalances at once instead of waiting out the session timeout. Best effort: returns the
 * problem as a warning instead of throwing, because the member is going away either way. With a group instance id
 * it removes the static member too, which is why a static member only leaves when asked.
 */
export async function leaveGroup(
  coordinator: GroupCoordinator,
  member: { memberId: string; groupInstanceId: string | null; reason: string },
  timeoutMs: number
): Promise<GroupError | undefined> {
  const { groupId } = coordinator
  try {
    await coordinator.request(
      'LeaveGroup',
      'control',
      (connection, protocol) => protocol.leaveGroup.async(connection, groupId, [member]),
      Date.now() + timeoutMs,
      // Its own signal: leaving happens after the member's loops were aborted.
      new AbortController().signal
    )
    return undefined
  } catch (error) {
    const name = kafkaErrorName(error)
    // Already gone (session expired) or replaced by a newer instance: nothing left to leave.
    if (name === 'UNKNOWN_MEMBER_ID' || name === 'FENCED_INSTANCE_ID') return undefined
    return new GroupError('STREAMLANE_GROUP_LEAVE_FAILED', groupId, `LeaveGroup failed: ${describeKafkaError(error)}`, {
      cause: error
    })
  }
}
