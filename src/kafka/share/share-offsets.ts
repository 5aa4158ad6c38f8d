import { createAPI, Writer } from '@platformatic/kafka'
import { type KafkaConnectionOptions, resolveConnectionOptions } from '../connection.ts'
import { KafkaRequestError, translateKafkaError } from '../errors.ts'
import { GroupCoordinator } from '../group/coordinator.ts'
import { errorName } from './share-apis.ts'

/**
 * A share group's backlog, for autoscaling: DescribeShareGroupOffsets (API 90) answers, per share partition, the
 * start offset (records below it are all acknowledged) and, from v1 (Kafka 4.2+), the lag: records from the start
 * offset to the end of the log that are not acknowledged yet (in flight, released or never delivered). Asked of the
 * group coordinator. Layout from Apache Kafka's DescribeShareGroupOffsetsRequest/Response.json, v1.
 */

export interface SharePartitionBacklog {
  topic: string
  partition: number
  /**
   * Below it every record is acknowledged; -1 when the group has not initialised this share partition yet. It is the
   * persisted share state, so it may trail the acknowledgements by a little: count the backlog with `lag`.
   */
  startOffset: bigint
  /** Records not yet acknowledged; -1 when the broker does not know (not initialised, or a v0 broker). */
  lag: bigint
}

interface DescribeShareGroupOffsetsResponse {
  groups: {
    groupId: string
    errorCode: number
    errorMessage: string | null
    topics: {
      topicName: string
      partitions: {
        partitionIndex: number
        startOffset: bigint
        lag: bigint
        errorCode: number
        errorMessage: string | null
      }[]
    }[]
  }[]
}

type TopicRequest = { topicName: string; partitions: number[] }

const describeShareGroupOffsetsV1 = createAPI<
  [groupId: string, topics: TopicRequest[] | null],
  DescribeShareGroupOffsetsResponse
>(
  90,
  1,
  (groupId: string, topics: TopicRequest[] | null) =>
    Writer.create()
      .appendArray([groupId], (w, id) =>
        w.appendString(id).appendArray(topics, (w, t) => {
          w.appendString(t.topicName).appendArray(t.partitions, (w, p) => w.appendInt32(p), true, false)
        })
      )
      .appendTaggedFields(),
  (_correlationId, _apiKey, _apiVersion, r) => {
    r.readInt32() // throttle_time_ms
    const groups = r.readArray((r) => {
      const groupId = r.readString()
      const topics = r.readArray((r) => {
        const topicName = r.readString()
        r.readUUID()
        const partitions = r.readArray((r) => {
          const partitionIndex = r.readInt32()
          const startOffset = r.readInt64()
          r.readInt32() // leader_epoch
          const lag = r.readInt64()
          return { partitionIndex, startOffset, lag, errorCode: r.readInt16(), errorMessage: r.readNullableString() }
        })
        return { topicName, partitions }
      })
      return { groupId, topics, errorCode: r.readInt16(), errorMessage: r.readNullableString() }
    })
    r.readTaggedFields()
    return { groups }
  }
)

/**
 * The backlog of `groupId` per share partition: every partition of `topics`, or of every topic the group has
 * state for when `topics` is absent.
 */
export async function describeShareGroupBacklog(
  options: KafkaConnectionOptions,
  groupId: string,
  topics?: { topic: string; partitions: number[] }[]
): Promise<SharePartitionBacklog[]> {
  const resolved = resolveConnectionOptions(options)
  const coordinator = new GroupCoordinator({ ...resolved, groupId, rebalanceTimeoutMs: resolved.requestTimeoutMs })
  const stop = new AbortController()
  try {
    const request = topics ? topics.map((t) => ({ topicName: t.topic, partitions: t.partitions })) : null
    const response = await coordinator.request(
      'DescribeShareGroupOffsets',
      'control',
      (connection) => describeShareGroupOffsetsV1.async(connection, groupId, request),
      Date.now() + resolved.requestTimeoutMs,
      stop.signal
    )
    const group = response.groups[0]
    if (group && group.errorCode !== 0) {
      throw new KafkaRequestError(
        'describe share group offsets',
        `group ${groupId}: ${errorName(group.errorCode)}${group.errorMessage ? ` (${group.errorMessage})` : ''}`
      )
    }
    const backlog: SharePartitionBacklog[] = []
    for (const t of group?.topics ?? []) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0 && p.errorCode !== 3) {
          throw new KafkaRequestError(
            'describe share group offsets',
            `group ${groupId}, ${t.topicName}-${p.partitionIndex}: ${errorName(p.errorCode)}`
          )
        }
        backlog.push({ topic: t.topicName, partition: p.partitionIndex, startOffset: p.startOffset, lag: p.lag })
      }
    }
    return backlog.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
  } catch (error) {
    throw translateKafkaError(error, { operation: 'describe share group offsets', groupId, brokers: resolved.brokers })
  } finally {
    await coordinator.close()
  }
}
