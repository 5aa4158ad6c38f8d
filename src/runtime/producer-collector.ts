/**
 * The runtime's RecordCollector: tasks hand it serialized records, it batches them into the producer without
 * waiting, and `flush()` waits until every record sent so far is acknowledged. Offsets are committed only after a
 * flush succeeds, which is what makes a crash replay rather than skip.
 */

import { setTimeout as delay } from 'node:timers/promises'
import type { KafkaProducer, ProducerRecord, RecordHeader } from '../kafka/index.ts'
import {
  BrokerUnreachableError,
  KafkaError,
  KafkaTimeoutError,
  ProducerFencedError,
  UnknownTopicError,
  WritesHeldError
} from '../kafka/index.ts'
import { topicPartitionKey } from '../topic-partition.ts'
import type { ProducedRecord, ProducedRecordOrigin, RecordCollector } from '../topology/index.ts'
import { ProductionError } from '../topology/index.ts'

/** Records handed to the producer in one call; large enough to amortise the call, small enough to keep latency. */
const BATCH_RECORDS = 2_000

export interface ProductionFailure {
  readonly error: Error
  readonly records: readonly ProducerRecord[]
  readonly origins: readonly ProducedRecordOrigin[]
}

/** Why records were dropped unsent: their tasks were lost, the new owner writes them. Not a failure of the app. */
class RecordsDiscardedError extends Error {
  constructor() {
    super('records dropped unsent: the tasks that produced them were lost')
  }
}

/**
 * A flush found records the producer holds back because this member may have lost its tasks: the commit cannot go on
 * (it is tried again, or the tasks are closed as lost), and must not wait, since the answer may need the same lock.
 * The producer throws the same error for a transaction's offsets or commit it holds back.
 */
export { WritesHeldError }

/** How often a flush waiting for acknowledgements checks whether the producer holds records back. */
const HELD_CHECK_MS = 50

/** Decides what a failed send means: throw to fail (the error surfaces at flush), return to skip the records. */
export type ProductionFailureHandler = (failure: ProductionFailure) => void

function toProducerRecord(record: ProducedRecord): ProducerRecord {
  const headers: RecordHeader[] = []
  for (const [key, value] of record.headers) headers.push([key, value ?? Buffer.alloc(0)])
  return {
    topic: record.topic,
    partition: record.partition,
    key: record.key,
    value: record.value,
    headers,
    timestamp: record.timestamp
  }
}

export class ProducerRecordCollector implements RecordCollector {
  #producer: KafkaProducer
  readonly #partitionCounts: ReadonlyMap<string, number>
  readonly #onFailure: ProductionFailureHandler
  readonly #writesHeld: () => boolean
  #records: ProducerRecord[] = []
  #origins: ProducedRecordOrigin[] = []
  readonly #inFlight = new Set<Promise<void>>()
  #failure: Error | undefined
  /** Records acknowledged since the collector was made, for metrics. */
  sent = 0
  /** Sends that failed (after the producer's own retries), for metrics; a batch retried record by record counts once. */
  sendErrors = 0
  /** Records in sends not settled yet, for metrics. */
  #inFlightRecords = 0
  /** Told of each record a sink sends (its timestamp), for the end-to-end latency metric; not of changelog writes. */
  onSinkRecord: ((timestampMs: number) => void) | undefined
  /** Topics whose acknowledged offsets are tracked: changelogs, whose stores checkpoint them. */
  readonly #trackedTopics = new Set<string>()
  readonly #acked = new Map<string, bigint>()

  constructor(
    producer: KafkaProducer,
    partitionCounts: ReadonlyMap<string, number>,
    onFailure: ProductionFailureHandler,
    /** Whether the producer holds records back (the producer's `holdWhile`): then flush() fails with WritesHeldError. */
    writesHeld: () => boolean = () => false
  ) {
    this.#producer = producer
    this.#partitionCounts = partitionCounts
    this.#onFailure = onFailure
    this.#writesHeld = writesHeld
  }

  send(record: ProducedRecord, origin: ProducedRecordOrigin): void {
    if (this.#failure) throw this.#failure
    if (origin.sinkName !== null) this.onSinkRecord?.(record.timestamp)
    this.#records.push(toProducerRecord(record))
    this.#origins.push(origin)
    if (this.#records.length >= BATCH_RECORDS) this.dispatch()
  }

  /** Records not acknowledged yet: buffered here or in sends that have not settled. */
  get unacknowledged(): number {
    return this.#records.length + this.#inFlightRecords
  }

  /** Starts tracking the last acknowledged offset of every partition of `topic`. */
  trackAcknowledgedOffsets(topic: string): void {
    this.#trackedTopics.add(topic)
  }

  /** The last acknowledged offset of a tracked partition, after the latest flush. */
  acknowledgedOffset(topic: string, partition: number): bigint | undefined {
    return this.#acked.get(topicPartitionKey(topic, partition))
  }

  partitionCount(topic: string): number | undefined {
    return this.#partitionCounts.get(topic)
  }

  /** Hands the buffered records to the producer without waiting for them. */
  dispatch(): void {
    if (this.#records.length === 0) return
    const records = this.#records
    const origins = this.#origins
    this.#records = []
    this.#origins = []
    this.#inFlightRecords += records.length
    const sending: Promise<void> = this.#producer.send(records).then(
      (written) => this.#acknowledged(written),
      (error: unknown) => this.#failed(records, origins, error)
    )
    const tracked = sending.finally(() => {
      this.#inFlight.delete(tracked)
      this.#inFlightRecords -= records.length
    })
    this.#inFlight.add(tracked)
  }

  #acknowledged(written: readonly { topic: string; partition: number; offset: bigint }[]): void {
    this.sent += written.length
    if (this.#trackedTopics.size === 0) return
    for (const { topic, partition, offset } of written) {
      if (!this.#trackedTopics.has(topic)) continue
      const k = topicPartitionKey(topic, partition)
      if (offset > (this.#acked.get(k) ?? -1n)) this.#acked.set(k, offset)
    }
  }

  /**
   * One refused record fails the whole batch it was sent in. Before anything reaches the failure handler (which may
   * skip records), the batch is sent again record by record, so only the records the broker refuses are handled
   * and the good ones are written (at worst twice: at-least-once, never lost).
   */
  async #failed(records: ProducerRecord[], origins: ProducedRecordOrigin[], error: unknown): Promise<void> {
    const cause = error instanceof Error ? error : new Error(String(error))
    if (!(cause instanceof RecordsDiscardedError)) this.sendErrors++
    const report = (failure: ProductionFailure) => {
      try {
        this.#onFailure(failure)
      } catch (fatal) {
        this.#failure ??= fatal instanceof Error ? fatal : cause
      }
    }
    if (cause instanceof RecordsDiscardedError) return
    // A fenced producer can send nothing more: the app must see the fencing itself, and no handler may skip it.
    if (cause instanceof ProducerFencedError) {
      this.#failure ??= cause
      return
    }
    // A broker that is away is not a bad record: no handler may skip records for it (as in Kafka Streams).
    if (isOutage(cause)) {
      this.#failure ??= productionErrorOf({ error: cause, records, origins })
      return
    }
    if (records.length === 1) return report({ error: cause, records, origins })
    for (let i = 0; i < records.length && !this.#failure; i++) {
      try {
        this.#acknowledged(await this.#producer.send([records[i]!]))
      } catch (single) {
        report({ error: single instanceof Error ? single : cause, records: [records[i]!], origins: [origins[i]!] })
      }
    }
  }

  /**
   * Continues with `producer` after the old one was fenced: records not yet acknowledged belonged to the aborted
   * transaction and are dropped (their tasks start again from committed offsets), and so is the failure.
   */
  async replaceProducer(producer: KafkaProducer): Promise<void> {
    this.#records = []
    this.#origins = []
    // Records the fenced producer still holds back would never settle.
    await this.#producer.discardUnsent(new RecordsDiscardedError())
    await Promise.allSettled([...this.#inFlight])
    this.#failure = undefined
    this.#producer = producer
  }

  /**
   * Drops every record not written yet, here and queued in the producer, because the tasks that produced them were
   * lost (a member that may have lost its tasks writes nothing for them). Records already on the wire complete.
   */
  async discardUnsent(): Promise<void> {
    this.#records = []
    this.#origins = []
    await this.#producer.discardUnsent(new RecordsDiscardedError())
    await Promise.allSettled([...this.#inFlight])
  }

  /** Resolves once every record sent so far is acknowledged; rejects with the first failure that was not skipped. */
  async flush(): Promise<void> {
    // Dead-letter records sent by the failure handler while we wait are part of this flush too.
    do {
      this.dispatch()
      await this.#inFlightSettled()
    } while (this.#records.length > 0 || this.#inFlight.size > 0)
    if (this.#failure) throw this.#failure
  }

  /** Waits for every send in flight; fails with WritesHeldError rather than wait on records the producer holds back. */
  async #inFlightSettled(): Promise<void> {
    if (this.#inFlight.size === 0) return
    const all = Promise.all([...this.#inFlight]).then(() => true)
    for (;;) {
      if (await Promise.race([all, delay(HELD_CHECK_MS, false)])) return
      if (this.#writesHeld()) throw new WritesHeldError()
    }
  }
}

function isOutage(error: Error): boolean {
  return (
    error instanceof KafkaTimeoutError ||
    error instanceof BrokerUnreachableError ||
    (error instanceof KafkaError && error.retriable)
  )
}

/**
 * Whether a failure `flush()` reported is for good: records the production handler chose to fail on (a missing
 * topic, a record too large), not a broker outage or a fencing that another attempt may get past.
 */
export function isFatalProductionError(error: unknown): boolean {
  return error instanceof ProductionError && !(error.cause instanceof Error && isOutage(error.cause))
}

/** The error a failed send becomes: it names the sink, the task, the topic and the input record being processed. */
export function productionErrorOf({ error, records, origins }: ProductionFailure): ProductionError | Error {
  const origin = origins[0]
  if (!origin) return error
  return new ProductionError(
    {
      taskId: origin.taskId,
      sinkName: origin.sinkName ?? 'dead-letter',
      topic: records[0]?.topic ?? null,
      sourceRecord: origin.sourceRecord,
      activity: origin.activity,
      hint: hintFor(error)
    },
    error
  )
}

function hintFor(error: Error): string | undefined {
  // Fixed sink topics are checked at start; this is a topic chosen per record, or one deleted while running.
  if (error instanceof UnknownTopicError) {
    return (
      'create the topic, or check the topic name the sink writes to, then restart the application: input ' +
      'records whose output was not written are not committed and are read again'
    )
  }
  return undefined
}
