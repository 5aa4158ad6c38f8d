import {
  type Admin,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  type describeGroupsV5,
  FindCoordinatorKeyTypes
} from '@platformatic/kafka'
import { callApi, getApi, getConnection } from './library.ts'

/**
 * DescribeGroups done on the raw protocol API: the library's admin decodes members but drops each member's
 * assignment userData, which is where Streamlane's assignment (active / standby / warm-up tasks) lives.
 */

export interface GroupMemberDescription {
  memberId: string
  groupInstanceId?: string
  clientId: string
  host: string
  assignment: { topic: string; partitions: number[] }[]
  assignmentUserData?: Buffer
  subscriptionUserData?: Buffer
}

export interface GroupDescription {
  groupId: string
  /** Kafka's state name: Empty, Stable, PreparingRebalance, CompletingRebalance, Dead. */
  state: string
  protocolType: string
  /** The assignor (partition assignment strategy) the group agreed on, e.g. `streamlane`. */
  protocol: string
  members: GroupMemberDescription[]
}

type DescribeGroupsResponse = describeGroupsV5.DescribeGroupsResponse
type RawMember = DescribeGroupsResponse['groups'][number]['members'][number]

/** Decodes the consumer-protocol structs; a group of another protocol type (e.g. Connect) keeps only the basics. */
export function describeMember(protocolType: string, raw: RawMember): GroupMemberDescription {
  const member: GroupMemberDescription = {
    memberId: raw.memberId,
    clientId: raw.clientId,
    host: raw.clientHost,
    assignment: []
  }
  if (raw.groupInstanceId) member.groupInstanceId = raw.groupInstanceId
  if (protocolType !== 'consumer') return member
  try {
    if (raw.memberMetadata.length > 0) {
      const subscription = decodeConsumerProtocolSubscription(raw.memberMetadata)
      if (subscription.userData && subscription.userData.length > 0) member.subscriptionUserData = subscription.userData
    }
    if (raw.memberAssignment.length > 0) {
      const assignment = decodeConsumerProtocolAssignment(raw.memberAssignment)
      member.assignment = assignment.assignedPartitions.map(({ topic, partitions }) => ({
        topic,
        partitions: [...partitions].sort((a, b) => a - b)
      }))
      if (assignment.userData && assignment.userData.length > 0) member.assignmentUserData = assignment.userData
    }
  } catch {
    // A member that wrote something else than the consumer protocol: describe it without its structs.
  }
  return member
}

/** Describes groups on their coordinators (one request per coordinator), in the order asked. */
export async function describeGroupsRaw(admin: Admin, groupIds: string[]): Promise<GroupDescription[]> {
  if (groupIds.length === 0) return []
  const coordinators = await admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: groupIds })
  const byNode = new Map<number, { host: string; port: number; groups: string[] }>()
  for (const c of coordinators) {
    const entry = byNode.get(c.nodeId) ?? { host: c.host, port: c.port, groups: [] }
    entry.groups.push(c.key)
    byNode.set(c.nodeId, entry)
  }
  const api = await getApi<[string[], boolean], DescribeGroupsResponse>(admin, 'DescribeGroups')
  const described = new Map<string, GroupDescription>()
  await Promise.all(
    [...byNode.values()].map(async ({ host, port, groups }) => {
      const connection = await getConnection(admin, { host, port })
      const response = await callApi(api, connection, groups, false)
      for (const group of response.groups) {
        described.set(group.groupId, {
          groupId: group.groupId,
          state: group.groupState,
          protocolType: group.protocolType,
          protocol: group.protocolData,
          members: group.members.map((m) => describeMember(group.protocolType, m))
        })
      }
    })
  )
  return groupIds.map(
    (groupId) => described.get(groupId) ?? { groupId, state: 'Dead', protocolType: '', protocol: '', members: [] }
  )
}
