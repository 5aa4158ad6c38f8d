/**
 * What a ShareFetch response gives: the records the broker acquired for this member, each with its delivery count and
 * recorded as delivered in the ledger, and a `gap` acknowledgement for every acquired offset with no record (compacted
 * away or an aborted transaction's). Partition errors that mean metadata moved mark the leaders stale.
 */
import { decodeRecordBatches } from '../fetch-decoder.ts'
import type { AcknowledgementLedger } from './acknowledgement-ledger.ts'
import { acknowledgeTypeCode, deliveryCountOf, gapOffsets } from './acknowledgements.ts'
import { errorName, type ShareFetchResponse } from './share-apis.ts'
import type { ShareLeaders } from './share-leaders.ts'
import type { ShareConsumerOptions, ShareRecord } from './share-types.ts'

/** Partition errors that mean metadata moved: refresh leaders and topic ids, then fetch again. */
const STALE_METADATA = new Set([3, 6, 74, 100]) // UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_TOPIC_ID

export interface FetchContext {
  leaders: ShareLeaders
  ledger: AcknowledgementLedger
  /** Told of acknowledgements that rode on the fetch and failed. */
  onAcknowledgementError: ShareConsumerOptions['onAcknowledgementError']
}

export function acquiredRecords(response: ShareFetchResponse, context: FetchContext): ShareRecord[] {
  const out: ShareRecord[] = []
  for (const topicResponse of response.responses) {
    const topic = context.leaders.topicName(topicResponse.topicId)
    if (!topic) continue
    for (const p of topicResponse.partitions) {
      if (p.errorCode !== 0 && STALE_METADATA.has(p.errorCode)) context.leaders.stale = true
      if (p.acknowledgeErrorCode !== 0) {
        context.onAcknowledgementError?.({
          topic,
          partition: p.partitionIndex,
          error: errorName(p.acknowledgeErrorCode)
        })
      }
      if (p.acquiredRecords.length === 0) continue
      const decoded = decodeRecordBatches(p.records, {
        topic,
        partition: p.partitionIndex,
        fetchOffset: 0n,
        readCommitted: false,
        abortedTransactions: [],
        copyBuffers: true
      })
      const present = new Set<bigint>()
      for (const record of decoded.records) {
        const deliveryCount = deliveryCountOf(p.acquiredRecords, record.offset)
        if (deliveryCount === undefined) continue
        present.add(record.offset)
        const shareRecord: ShareRecord = { ...record, deliveryCount }
        context.ledger.delivered(topicResponse.topicId, shareRecord)
        out.push(shareRecord)
      }
      const gapCode = acknowledgeTypeCode('gap')
      for (const offset of gapOffsets(p.acquiredRecords, present)) {
        context.ledger.add(topicResponse.topicId, p.partitionIndex, offset, gapCode)
      }
    }
  }
  return out
}
