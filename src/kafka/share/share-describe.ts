import { createAPI, Writer } from '@platformatic/kafka'
import { type KafkaConnectionOptions, resolveConnectionOptions } from '../connection.ts'
import { KafkaRequestError, translateKafkaError } from '../errors.ts'
import { GroupCoordinator } from '../group/coordinator.ts'
import { errorName } from './share-apis.ts'

/**
 * ShareGroupDescribe (API 77, v1): a share group's state and its members with their assignments, asked of the group
 * coordinator. The autoscaler reads the members (which worker joined, how many hold partitions) and `streamlane
 * describe` shows them. Layout from Apache Kafka's ShareGroupDescribeRequest/Response.json.
 */

export const SHARE_GROUP_DESCRIBE = { key: 77, version: 1 } as const

export interface ShareGroupMember {
  memberId: string
  rackId: string | null
  memberEpoch: number
  /** The client id of the member's connections (Streamlane: `<clientId>-share`). */
  clientId: string
  clientHost: string
  subscribedTopics: string[]
  assignment: { topic: string; partitions: number[] }[]
}

export interface ShareGroupDescription {
  groupId: string
  /** `Empty`, `Stable`, `Dead`, or `Unknown` when the coordinator has never seen the group. */
  state: string
  groupEpoch: number
  assignmentEpoch: number
  assignor: string
  members: ShareGroupMember[]
}

interface DescribedGroup extends ShareGroupDescription {
  errorCode: number
  errorMessage: string | null
}

/** GROUP_ID_NOT_FOUND: the coordinator has no such group (never joined, or deleted). */
const GROUP_ID_NOT_FOUND = 69

const shareGroupDescribeV1 = createAPI<[groupIds: string[]], DescribedGroup[]>(
  SHARE_GROUP_DESCRIBE.key,
  SHARE_GROUP_DESCRIBE.version,
  (groupIds: string[]) =>
    Writer.create()
      .appendArray(groupIds, (w, id) => w.appendString(id), true, false)
      .appendBoolean(false) // include_authorized_operations
      .appendTaggedFields(),
  (_correlationId, _apiKey, _apiVersion, r) => {
    r.readInt32() // throttle_time_ms
    const groups = r.readArray((r) => {
      const errorCode = r.readInt16()
      const errorMessage = r.readNullableString()
      const groupId = r.readString()
      const state = r.readString()
      const groupEpoch = r.readInt32()
      const assignmentEpoch = r.readInt32()
      const assignor = r.readString()
      const members = r.readArray((r) => {
        const memberId = r.readString()
        const rackId = r.readNullableString()
        const memberEpoch = r.readInt32()
        const clientId = r.readString()
        const clientHost = r.readString()
        const subscribedTopics = r.readArray((r) => r.readString(), true, false)
        const assignment = r.readArray((r) => {
          r.readUUID()
          return { topic: r.readString(), partitions: r.readArray((r) => r.readInt32(), true, false) }
        })
        r.readTaggedFields() // end of the Assignment struct
        return { memberId, rackId, memberEpoch, clientId, clientHost, subscribedTopics, assignment }
      })
      r.readInt32() // authorized_operations
      return { errorCode, errorMessage, groupId, state, groupEpoch, assignmentEpoch, assignor, members }
    })
    r.readTaggedFields()
    return groups
  }
)

/** The share group `groupId`: state `Unknown` with no members when the coordinator does not know it. */
export async function describeShareGroup(
  options: KafkaConnectionOptions,
  groupId: string
): Promise<ShareGroupDescription> {
  const resolved = resolveConnectionOptions(options)
  const coordinator = new GroupCoordinator({ ...resolved, groupId, rebalanceTimeoutMs: resolved.requestTimeoutMs })
  const stop = new AbortController()
  try {
    const [group] = await coordinator.request(
      'ShareGroupDescribe',
      'control',
      (connection) => shareGroupDescribeV1.async(connection, [groupId]),
      Date.now() + resolved.requestTimeoutMs,
      stop.signal
    )
    // The coordinator answers GROUP_ID_NOT_FOUND also for a consumer group under this id ("... is not a share group").
    const otherKind = group?.errorMessage?.includes('not a share group') === true
    if (!group || (group.errorCode === GROUP_ID_NOT_FOUND && !otherKind)) {
      return { groupId, state: 'Unknown', groupEpoch: -1, assignmentEpoch: -1, assignor: '', members: [] }
    }
    if (group.errorCode !== 0) {
      throw new KafkaRequestError(
        'describe share group',
        `group ${groupId}: ${errorName(group.errorCode)}${group.errorMessage ? ` (${group.errorMessage})` : ''}`
      )
    }
    const { errorCode: _code, errorMessage: _message, ...description } = group
    for (const member of description.members) member.assignment.sort((a, b) => (a.topic < b.topic ? -1 : 1))
    return description
  } catch (error) {
    throw translateKafkaError(error, { operation: 'describe share group', groupId, brokers: resolved.brokers })
  } finally {
    await coordinator.close()
  }
}
