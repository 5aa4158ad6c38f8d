/**
 * Group membership owned by Streamlane (classic group protocol, protocol type `consumer`, assignor `streamlane`).
 *
 * How the runtime drives a member:
 *   const member = new GroupMember({ brokers, groupId, topics, assign, userData, groupInstanceId,
 *     onRevoke: async (lost, ctx) => { commit + close exactly these tasks },
 *     onAssigned: async ({ assignment, added, retained }) => { start `added`, read assignment.userData },
 *     onLost: async (lost) => { close these tasks without committing } })
 *   await member.join()                        // first assignment, onAssigned done
 *   member.commitOffsets([...])                // on the commit interval; RebalanceInProgressError -> retry later
 *   member.generation                          // generation + member id for TxnOffsetCommit (exactly-once)
 *   member.on('state' | 'rebalance' | ...)     // the autoscaler watches rebalanceInProgress
 *   await member.close()                       // onRevoke(all, 'close'), then LeaveGroup unless static; a join
 *                                              // round in flight finishes first if the commit there needs its
 *                                              // generation (generationAfterJoin)
 *
 * Why cooperative on top of the classic (eager) wire protocol: JoinGroup / SyncGroup are unchanged, but a member
 * never revokes before rejoining. It reports what it owns in its subscription (consumer protocol v3: owned
 * partitions + their generation) and keeps processing during the rebalance. The leader withholds any partition
 * another member still owns (leader-assignment.ts), so after SyncGroup each member revokes only `old - new`
 * (onRevoke, awaited: the runtime commits there) and then rejoins once more; in that follow-up generation the freed
 * partitions reach their new owner. Partitions that stay never stop, and none is ever processed by two members.
 * This is Kafka's KIP-429 protocol implemented in the membership layer, so it holds whatever assignor is plugged in.
 * Lost ownership (session expired, UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION) goes to onLost instead: no commit.
 */
export { CONSUMER_PROTOCOL_TYPE, STREAMLANE_PROTOCOL_NAME } from './consumer-protocol.ts'
export {
  FencedInstanceError,
  GroupAssignmentError,
  GroupCallbackError,
  GroupClosedError,
  GroupError,
  GroupJoinError,
  GroupOffsetError,
  GroupProtocolUnsupportedError,
  GroupTimeoutError,
  RebalanceInProgressError
} from './errors.ts'
export { GroupMember } from './group-member.ts'
export type { CommitGeneration } from './offsets.ts'
export { defaultHeartbeatIntervalMs, GROUP_MEMBER_DEFAULTS } from './options.ts'
export { type AssignmentDiff, diffAssignment, normalizePartitions } from './partitions.ts'
export type * from './types.ts'
