/**
 * What a share consumer owes the brokers: the records poll() returned that are not acknowledged yet, and the
 * acknowledgements waiting to travel on the next request to their partition's leader. Pending acknowledgements are
 * keyed by session partition (`topicId:partition`, see share-session.ts), offset -> acknowledge type code.
 */
import { KafkaRequestError } from '../errors.ts'
import { type AcknowledgeType, acknowledgeTypeCode, toAcknowledgementBatches } from './acknowledgements.ts'
import type { ShareTopicRequest } from './share-apis.ts'
import { sessionPartitionKey, splitSessionPartitionKey } from './share-session.ts'
import type { ShareRecord } from './share-types.ts'

/** A record handed to the caller, with the id of its topic (acknowledgements name topics by id). */
export interface Delivered {
  topicId: string
  record: ShareRecord
}

/** Acknowledgements of one session partition: offset -> acknowledge type code. */
export type PartitionAcknowledgements = Map<bigint, number>

export class AcknowledgementLedger {
  /** Pending acknowledgements by `topicId:partition`. */
  readonly #pending = new Map<string, PartitionAcknowledgements>()
  /** Records returned by poll() and not acknowledged yet, by `topic\0partition\0offset`. */
  readonly #delivered = new Map<string, Delivered>()

  /** `record` goes to the caller, who owes its acknowledgement. */
  delivered(topicId: string, record: ShareRecord): void {
    this.#delivered.set(recordKey(record), { topicId, record })
  }

  /** The delivery of `record` while it is not acknowledged yet. */
  deliveryOf(record: ShareRecord): Delivered | undefined {
    return this.#delivered.get(recordKey(record))
  }

  acknowledge(record: ShareRecord, type: AcknowledgeType): void {
    const code = acknowledgeTypeCode(type)
    const key = recordKey(record)
    const delivered = this.#delivered.get(key)
    if (!delivered) {
      throw new KafkaRequestError(
        'acknowledge',
        `${record.topic}-${record.partition}@${record.offset} was not delivered to this member or is already acknowledged`
      )
    }
    this.#delivered.delete(key)
    this.add(delivered.topicId, record.partition, record.offset, code)
  }

  /** Acknowledges every record delivered and not acknowledged yet with `type`. */
  acknowledgeDelivered(type: AcknowledgeType): void {
    for (const delivered of [...this.#delivered.values()]) this.acknowledge(delivered.record, type)
  }

  add(topicId: string, partition: number, offset: bigint, code: number): void {
    const key = sessionPartitionKey(topicId, partition)
    let acks = this.#pending.get(key)
    if (!acks) {
      acks = new Map()
      this.#pending.set(key, acks)
    }
    acks.set(offset, code)
  }

  /** Removes and returns the pending acknowledgements of `key`; `restore` puts them back after a failed request. */
  take(key: string): PartitionAcknowledgements | undefined {
    const acks = this.#pending.get(key)
    this.#pending.delete(key)
    return acks && acks.size > 0 ? acks : undefined
  }

  /** Puts back acknowledgements a failed request took, unless the offset was acknowledged again meanwhile. */
  restore(key: string, acks: PartitionAcknowledgements): void {
    const [topicId, partition] = splitSessionPartitionKey(key)
    for (const [offset, code] of acks) {
      if (!this.#pending.get(key)?.has(offset)) this.add(topicId, partition, offset, code)
    }
  }

  /** Session partitions with pending acknowledgements. */
  pendingPartitions(): IterableIterator<string> {
    return this.#pending.keys()
  }
}

/**
 * Adds a session partition to the topics of a ShareFetch or ShareAcknowledge request, with its acknowledgements if it
 * has any.
 */
export function addRequestPartition(
  topics: Map<string, ShareTopicRequest>,
  key: string,
  acks: PartitionAcknowledgements | undefined
): void {
  const [topicId, partition] = splitSessionPartitionKey(key)
  const entry = topics.get(topicId) ?? { topicId, partitions: [] }
  entry.partitions.push({
    partitionIndex: partition,
    acknowledgementBatches: acks ? toAcknowledgementBatches(acks) : []
  })
  topics.set(topicId, entry)
}

function recordKey(record: { topic: string; partition: number; offset: bigint }): string {
  return `${record.topic}\0${record.partition}\0${record.offset}`
}
