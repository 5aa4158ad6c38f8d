import type { KafkaConnectionOptions } from '../connection.ts'
import type { ConsumedRecord } from '../types.ts'
import type { AcknowledgeType } from './acknowledgements.ts'

/** The public types of the share-group consumer (share-consumer.ts). */

export type AcknowledgementMode = 'implicit' | 'explicit'

export interface ShareConsumerOptions extends KafkaConnectionOptions {
  groupId: string
  topics: string[]
  acknowledgementMode?: AcknowledgementMode
  /** How long the broker holds a ShareFetch while it has nothing to hand out. Default 500. */
  maxWaitMs?: number
  /** Records acquired per ShareFetch to one broker: a hard limit on Kafka 4.2+ (ShareFetch v2), soft on 4.1. Default 500. */
  maxRecords?: number
  rackId?: string
  /** Called when the broker refuses an acknowledgement (the lock had expired, the record is no longer acquired). */
  onAcknowledgementError?: (failure: AcknowledgementFailure) => void
}

/** A record acquired for this member. `deliveryCount` is 1 on first delivery and grows on every redelivery. */
export interface ShareRecord extends ConsumedRecord {
  deliveryCount: number
}

export interface AcknowledgementFailure {
  topic: string
  partition: number
  /** Kafka error name, e.g. INVALID_RECORD_STATE when the acquisition lock had expired. */
  error: string
}

export interface KafkaShareConsumer {
  readonly groupId: string
  readonly memberId: string
  /** The broker's acquisition lock timeout, known after the first fetch (0 before). */
  readonly acquisitionLockTimeoutMs: number
  /** Partitions the coordinator currently assigns to this member. */
  assignment(): { topic: string; partition: number }[]
  /** Acquired records, waiting up to `timeoutMs` when none are available; `maxRecords` overrides the option for this poll. */
  poll(timeoutMs?: number, maxRecords?: number): Promise<ShareRecord[]>
  /** Records how `record` is acknowledged; sent with the next poll() or commit(). */
  acknowledge(record: ShareRecord, type?: AcknowledgeType): void
  /** Whether the brokers can renew acquisition locks (ShareAcknowledge v2, KIP-1222, Kafka 4.2+). */
  supportsRenew(): Promise<boolean>
  /**
   * Restarts the acquisition locks of records still held (delivered, not acknowledged), at once: Java's
   * `acknowledge(record, RENEW)` + commit. The records stay delivered and are acknowledged later as usual. Resolves
   * with the partitions the broker refused (the lock had already expired); throws on brokers without renewal.
   */
  renew(records: readonly ShareRecord[]): Promise<AcknowledgementFailure[]>
  /** Sends the pending acknowledgements now (ShareAcknowledge); resolves with the ones the broker refused. */
  commit(): Promise<AcknowledgementFailure[]>
  /** Acknowledges what is pending (see the modes), closes the share sessions and leaves the group. */
  close(): Promise<void>
}
