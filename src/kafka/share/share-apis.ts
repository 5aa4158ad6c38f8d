import {
  createAPI,
  protocolErrorsCodesById,
  type Reader,
  Reader as RecordReader,
  type RecordsBatch,
  ResponseError,
  readRecordsBatches,
  Writer
} from '@platformatic/kafka'

/**
 * The KIP-932 share-group protocol APIs, which the client library lists but does not implement, written with the
 * library's own Writer / Reader so they travel over its connections like every other request. Field layouts follow
 * Apache Kafka's message definitions (clients/src/main/resources/common/message/Share*.json) at the versions Kafka
 * 4.1+ brokers speak: ShareGroupHeartbeat v1, ShareFetch v1 / v2, ShareAcknowledge v1 / v2 (v0 was the early-access
 * format and is gone). ShareFetch v2 (Kafka 4.2+) adds the acquire mode: `record_limit` makes max_records a hard
 * limit, so a consumer never acquires (and lets expire) more records than it has room to process. All are flexible
 * versions: compact strings and arrays, tagged fields after every struct.
 */

export const SHARE_GROUP_HEARTBEAT = { key: 76, version: 1 } as const
export const SHARE_FETCH = { key: 78, version: 1, recordLimitVersion: 2 } as const
export const SHARE_ACKNOWLEDGE = { key: 79, version: 1, renewVersion: 2 } as const

/** Acknowledge types of AcknowledgementBatch.AcknowledgeTypes. A gap is an offset with no record (compaction, markers). */
export const ACK_GAP = 0
export const ACK_ACCEPT = 1
export const ACK_RELEASE = 2
export const ACK_REJECT = 3
/** KIP-1222 (ShareAcknowledge v2, Kafka 4.2+): keep the record acquired and restart its acquisition lock. */
export const ACK_RENEW = 4

export interface AcknowledgementBatch {
  firstOffset: bigint
  lastOffset: bigint
  /** One type for the whole range, or one per offset. */
  acknowledgeTypes: number[]
}

export interface SharePartitionRequest {
  partitionIndex: number
  acknowledgementBatches: AcknowledgementBatch[]
}

export interface ShareTopicRequest {
  topicId: string
  partitions: SharePartitionRequest[]
}

export interface ShareGroupHeartbeatResponse {
  errorCode: number
  errorMessage: string | null
  memberId: string | null
  memberEpoch: number
  heartbeatIntervalMs: number
  /** null when unchanged since the last heartbeat. */
  assignment: { topicId: string; partitions: number[] }[] | null
}

export interface AcquiredRecords {
  firstOffset: bigint
  lastOffset: bigint
  deliveryCount: number
}

export interface SharePartitionResponse {
  partitionIndex: number
  errorCode: number
  errorMessage: string | null
  acknowledgeErrorCode: number
  acknowledgeErrorMessage: string | null
  currentLeader: { leaderId: number; leaderEpoch: number }
  records: RecordsBatch[]
  acquiredRecords: AcquiredRecords[]
}

export interface ShareFetchResponse {
  errorCode: number
  errorMessage: string | null
  acquisitionLockTimeoutMs: number
  responses: { topicId: string; partitions: SharePartitionResponse[] }[]
}

export interface ShareAcknowledgeResponse {
  errorCode: number
  errorMessage: string | null
  /** v2+: the lock a renewal restarted; 0 on v1. */
  acquisitionLockTimeoutMs: number
  responses: {
    topicId: string
    partitions: { partitionIndex: number; errorCode: number; errorMessage: string | null }[]
  }[]
}

/** The Kafka name of an error code (e.g. `SHARE_SESSION_NOT_FOUND`), or `error code N` when the library lacks it. */
export function errorName(code: number): string {
  return protocolErrorsCodesById[code] ?? `error code ${code}`
}

/**
 * A top-level error as the library's ResponseError, so code that looks errors up by Kafka name (coordinator moved,
 * unknown member) reads it like any other API's; codes the library does not know stay plain errors with the code.
 */
function topLevelError(apiKey: number, apiVersion: number, code: number, message: string | null, response: unknown) {
  if (protocolErrorsCodesById[code] !== undefined) {
    return new ResponseError(apiKey, apiVersion, { '/': [code, message] }, response)
  }
  return Object.assign(new Error(`Kafka ${errorName(code)}${message ? `: ${message}` : ''}`), { kafkaCode: code })
}

function writeAcknowledgementBatches(w: Writer, batches: AcknowledgementBatch[]): void {
  w.appendArray(batches, (w, b) => {
    w.appendInt64(b.firstOffset)
      .appendInt64(b.lastOffset)
      .appendArray(b.acknowledgeTypes, (w, t) => w.appendInt8(t), true, false)
  })
}

function writeTopics(w: Writer, topics: ShareTopicRequest[]): void {
  w.appendArray(topics, (w, t) => {
    w.appendUUID(t.topicId).appendArray(t.partitions, (w, p) => {
      w.appendInt32(p.partitionIndex)
      writeAcknowledgementBatches(w, p.acknowledgementBatches)
    })
  })
}

function readLeader(r: Reader): { leaderId: number; leaderEpoch: number } {
  const leader = { leaderId: r.readInt32(), leaderEpoch: r.readInt32() }
  r.readTaggedFields()
  return leader
}

function skipNodeEndpoints(r: Reader): void {
  r.readArray((r) => {
    r.readInt32()
    r.readString()
    r.readInt32()
    r.readNullableString()
  })
}

// --- ShareGroupHeartbeat v1: group_id member_id member_epoch rack_id [subscribed_topic_names] ---------------------

export const shareGroupHeartbeat = createAPI<
  [
    groupId: string,
    memberId: string,
    memberEpoch: number,
    rackId: string | null,
    subscribedTopicNames: string[] | null
  ],
  ShareGroupHeartbeatResponse
>(
  SHARE_GROUP_HEARTBEAT.key,
  SHARE_GROUP_HEARTBEAT.version,
  (groupId: string, memberId: string, memberEpoch: number, rackId: string | null, topics: string[] | null) =>
    Writer.create()
      .appendString(groupId)
      .appendString(memberId)
      .appendInt32(memberEpoch)
      .appendString(rackId)
      .appendArray(topics, (w, t) => w.appendString(t), true, false)
      .appendTaggedFields(),
  (_correlationId, apiKey, apiVersion, r) => {
    r.readInt32() // throttle_time_ms
    const response: ShareGroupHeartbeatResponse = {
      errorCode: r.readInt16(),
      errorMessage: r.readNullableString(),
      memberId: r.readNullableString(),
      memberEpoch: r.readInt32(),
      heartbeatIntervalMs: r.readInt32(),
      assignment: r.readNullableStruct(() => {
        const partitions = r.readArray((r) => ({
          topicId: r.readUUID(),
          partitions: r.readArray((r) => r.readInt32(), true, false)
        }))
        r.readTaggedFields()
        return partitions
      })
    }
    r.readTaggedFields()
    if (response.errorCode !== 0) {
      throw topLevelError(apiKey, apiVersion, response.errorCode, response.errorMessage, response)
    }
    return response
  }
)

// --- ShareFetch v1: group_id member_id share_session_epoch max_wait_ms min_bytes max_bytes max_records batch_size
//     [topics: topic_id [partitions: partition_index [acknowledgement_batches]]] [forgotten_topics_data] ---------------

export interface ShareFetchArgs {
  groupId: string
  memberId: string
  shareSessionEpoch: number
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  maxRecords: number
  batchSize: number
  topics: ShareTopicRequest[]
  forgottenTopics: { topicId: string; partitions: number[] }[]
}

function readSharePartition(r: Reader): SharePartitionResponse {
  const partition: SharePartitionResponse = {
    partitionIndex: r.readInt32(),
    errorCode: r.readInt16(),
    errorMessage: r.readNullableString(),
    acknowledgeErrorCode: r.readInt16(),
    acknowledgeErrorMessage: r.readNullableString(),
    currentLeader: readLeader(r),
    records: [],
    acquiredRecords: []
  }
  // COMPACT_RECORDS: length + 1, 0 for null.
  const size = r.readUnsignedVarInt()
  if (size > 1) {
    partition.records = readRecordsBatches(RecordReader.from(r.buffer.subarray(r.position, r.position + size - 1)))
    r.skip(size - 1)
  }
  partition.acquiredRecords = r.readArray((r) => ({
    firstOffset: r.readInt64(),
    lastOffset: r.readInt64(),
    deliveryCount: r.readInt16()
  }))
  return partition
}

/** ShareFetchRequest.ShareAcquireMode (v2+): 0 batch_optimized (whole batches, max_records is soft), 1 record_limit. */
const ACQUIRE_RECORD_LIMIT = 1

function shareFetchApi(version: 1 | 2) {
  return createAPI<[args: ShareFetchArgs], ShareFetchResponse>(
    SHARE_FETCH.key,
    version,
    (a: ShareFetchArgs) => {
      const w = Writer.create()
        .appendString(a.groupId)
        .appendString(a.memberId)
        .appendInt32(a.shareSessionEpoch)
        .appendInt32(a.maxWaitMs)
        .appendInt32(a.minBytes)
        .appendInt32(a.maxBytes)
        .appendInt32(a.maxRecords)
        .appendInt32(a.batchSize)
      // v2: share_acquire_mode, is_renew_ack (false: this request does not renew acquisition locks).
      if (version >= 2) w.appendInt8(ACQUIRE_RECORD_LIMIT).appendBoolean(false)
      writeTopics(w, a.topics)
      return w
        .appendArray(a.forgottenTopics, (w, t) =>
          w.appendUUID(t.topicId).appendArray(t.partitions, (w, p) => w.appendInt32(p), true, false)
        )
        .appendTaggedFields()
    },
    (_correlationId, apiKey, apiVersion, r) => {
      r.readInt32() // throttle_time_ms
      const response: ShareFetchResponse = {
        errorCode: r.readInt16(),
        errorMessage: r.readNullableString(),
        acquisitionLockTimeoutMs: r.readInt32(),
        responses: r.readArray((r) => ({ topicId: r.readUUID(), partitions: r.readArray(readSharePartition) }))
      }
      skipNodeEndpoints(r)
      r.readTaggedFields()
      if (response.errorCode !== 0) {
        throw topLevelError(apiKey, apiVersion, response.errorCode, response.errorMessage, response)
      }
      return response
    }
  )
}

/** ShareFetch v1 (Kafka 4.1) and v2 (4.2+, max_records is a hard limit). */
export const shareFetchV1 = shareFetchApi(1)
export const shareFetchV2 = shareFetchApi(2)

// --- ShareAcknowledge v1: group_id member_id share_session_epoch [topics: topic_id [partitions]] -------------------
//     v2 (KIP-1222) adds is_renew_ack after the epoch and acquisition_lock_timeout_ms to the response.

export interface ShareAcknowledgeArgs {
  groupId: string
  memberId: string
  shareSessionEpoch: number
  /** v2 only: the batches carry renewals (type 4), which keep the records acquired and restart their locks. */
  isRenewAck?: boolean
  topics: ShareTopicRequest[]
}

function shareAcknowledgeApi(version: 1 | 2) {
  return createAPI<[args: ShareAcknowledgeArgs], ShareAcknowledgeResponse>(
    SHARE_ACKNOWLEDGE.key,
    version,
    (a: ShareAcknowledgeArgs) => {
      const w = Writer.create().appendString(a.groupId).appendString(a.memberId).appendInt32(a.shareSessionEpoch)
      if (version >= 2) w.appendBoolean(a.isRenewAck ?? false)
      writeTopics(w, a.topics)
      return w.appendTaggedFields()
    },
    (_correlationId, apiKey, apiVersion, r) => {
      r.readInt32() // throttle_time_ms
      const errorCode = r.readInt16()
      const errorMessage = r.readNullableString()
      const response: ShareAcknowledgeResponse = {
        errorCode,
        errorMessage,
        acquisitionLockTimeoutMs: version >= 2 ? r.readInt32() : 0,
        responses: r.readArray((r) => ({
          topicId: r.readUUID(),
          partitions: r.readArray((r) => {
            const p = { partitionIndex: r.readInt32(), errorCode: r.readInt16(), errorMessage: r.readNullableString() }
            readLeader(r)
            return p
          })
        }))
      }
      skipNodeEndpoints(r)
      r.readTaggedFields()
      if (response.errorCode !== 0) {
        throw topLevelError(apiKey, apiVersion, response.errorCode, response.errorMessage, response)
      }
      return response
    }
  )
}

/** ShareAcknowledge v1 (Kafka 4.1+) and v2 (4.2+, renewals). */
export const shareAcknowledge = shareAcknowledgeApi(1)
export const shareAcknowledgeV2 = shareAcknowledgeApi(2)
