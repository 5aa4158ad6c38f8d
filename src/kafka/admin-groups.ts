import {
  type Admin,
  type Connection,
  type consumerGroupDescribeV0,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  type describeGroupsV5,
  FindCoordinatorKeyTypes
} from '@platformatic/kafka'
import { callApi, getApi, getConnection } from './library.ts'

/**
 * DescribeGroups done on the raw protocol API: the library's admin decodes members but drops each member's
 * assignment userData, which is where Streamlane's assignment (active / standby / warm-up tasks) lives.
 *
 * Kafka 4's consumer groups (KIP-848, `group.protocol=consumer`) are not classic groups: DescribeGroups answers
 * GROUP_ID_NOT_FOUND (or state Dead on older versions) for them. Those are described again with
 * ConsumerGroupDescribe, which gives each member's assignment as topic names and partitions (there is no userData in
 * that protocol), the group's state (Empty, Assigning, Reconciling, Stable) and its server-side assignor.
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
type ConsumerGroupDescribeResponse = consumerGroupDescribeV0.ConsumerGroupDescribeResponse
type ConsumerGroup = ConsumerGroupDescribeResponse['groups'][number]

/** Kafka's GROUP_ID_NOT_FOUND: "not a group of this protocol" for both describe APIs. */
const GROUP_ID_NOT_FOUND = 69
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
      const response = await withNotFound(callApi(api, connection, groups, false))
      const notClassic: string[] = []
      for (const group of response.groups) {
        if (group.errorCode === GROUP_ID_NOT_FOUND || group.groupState === 'Dead') {
          notClassic.push(group.groupId)
          continue
        }
        described.set(group.groupId, {
          groupId: group.groupId,
          state: group.groupState,
          protocolType: group.protocolType,
          protocol: group.protocolData,
          members: group.members.map((m) => describeMember(group.protocolType, m))
        })
      }
      for (const group of await describeConsumerGroups(admin, connection, notClassic)) {
        described.set(group.groupId, group)
      }
    })
  )
  return groupIds.map(
    (groupId) => described.get(groupId) ?? { groupId, state: 'Dead', protocolType: '', protocol: '', members: [] }
  )
}

/**
 * ConsumerGroupDescribe for the groups DescribeGroups did not know: KIP-848 consumer groups. A group unknown to both is
 * left out (it is Dead to the caller); a broker without the API (before Kafka 3.7) has no such groups.
 */
async function describeConsumerGroups(
  admin: Admin,
  connection: Connection,
  groupIds: string[]
): Promise<GroupDescription[]> {
  if (groupIds.length === 0) return []
  let api: Awaited<ReturnType<typeof getApi<[string[], boolean], ConsumerGroupDescribeResponse>>>
  try {
    api = await getApi<[string[], boolean], ConsumerGroupDescribeResponse>(admin, 'ConsumerGroupDescribe')
  } catch {
    return []
  }
  const response = await withNotFound(callApi(api, connection, groupIds, false))
  return response.groups.filter((g) => g.errorCode === 0 && g.groupState !== 'Dead').map(describeConsumerGroup)
}

export function describeConsumerGroup(group: ConsumerGroup): GroupDescription {
  return {
    groupId: group.groupId,
    state: group.groupState,
    protocolType: 'consumer',
    protocol: group.assignorName,
    members: group.members.map((m) => {
      const member: GroupMemberDescription = {
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.clientHost,
        assignment: m.assignment.topicPartitions.map(({ topicName, partitions }) => ({
          topic: topicName,
          partitions: [...partitions].sort((a, b) => a - b)
        }))
      }
      if (m.instanceId) member.groupInstanceId = m.instanceId
      return member
    })
  }
}

/**
 * The library turns any per-group error into a rejected call; GROUP_ID_NOT_FOUND is an answer here ("not a group of
 * this kind"), so the response it carries is used. Any other error stays an error.
 */
async function withNotFound<R extends { groups: { errorCode: number }[] }>(call: Promise<R>): Promise<R> {
  try {
    return await call
  } catch (error) {
    const response = (error as { response?: unknown }).response as R | undefined
    const onlyNotFound =
      response !== undefined &&
      Array.isArray(response.groups) &&
      response.groups.every((g) => g.errorCode === 0 || g.errorCode === GROUP_ID_NOT_FOUND)
    if (onlyNotFound) return response
    throw error
  }
}
