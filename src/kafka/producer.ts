import { type MessageToProduce, Producer } from '@platformatic/kafka'
import type { StreamlaneError } from '../errors.ts'
import { ConnectionWatch, libraryOptions, saslIdentity } from './connection.ts'
import { runWithDeadline, withDeadline } from './deadline.ts'
import {
  KafkaClosedError,
  KafkaRequestError,
  KafkaTimeoutError,
  ProducerFencedError,
  translateKafkaError,
  WritesHeldError
} from './errors.ts'
import { loadTopicMetadata } from './library.ts'
import { murmur2Partition } from './partitioner.ts'
import { ProduceBatcher } from './produce-batcher.ts'
import {
  ACKS,
  type ProducerOptions,
  type ResolvedProducerOptions as Resolved,
  recordSize,
  resolveProducerOptions
} from './producer-options.ts'
import { CoordinatorCache, sendTransactionOffsets, type TransactionOffsets } from './transaction-offsets.ts'
import type { ProducerRecord, RecordMetadata } from './types.ts'

export type { ProducerOptions } from './producer-options.ts'
export type { TransactionOffsets } from './transaction-offsets.ts'

export interface KafkaProducer {
  /**
   * Queues records; resolves with where each was written, in the order given, once acknowledged. Calls made while a
   * request is in flight are sent together right after it. May be left unawaited: flush() reports failures again.
   */
  send(records: ProducerRecord[]): Promise<RecordMetadata[]>
  /** Sends everything queued; rejects with the first send failure since the previous flush. */
  flush(): Promise<void>
  /**
   * Opens a transaction; the first call registers the transactional id (InitProducerId), fencing any older producer
   * with the same id and waiting (up to 2 x requestTimeoutMs) while the broker aborts that producer's open transaction.
   */
  beginTransaction(): Promise<void>
  /** Commits a group's input offsets inside the open transaction (exactly-once v2: with generation and member id). */
  sendOffsetsToTransaction(offsets: TransactionOffsets): Promise<void>
  /**
   * Flushes, then commits: every record and offset of the transaction becomes visible together. If a send of the
   * transaction failed, this rejects with that failure and the transaction stays open: abort it.
   */
  commitTransaction(): Promise<void>
  /** Drops what is queued and aborts: nothing of the transaction becomes visible to read_committed readers. */
  abortTransaction(): Promise<void>
  /**
   * Drops the records queued but not sent yet (their send() rejects with `reason`) and forgets the failure that
   * reports for flush(); records on the wire complete. For writes that must not happen any more (tasks lost).
   */
  discardUnsent(reason: Error): Promise<void>
  readonly transactionalId: string | undefined
  readonly inTransaction: boolean
  close(): Promise<void>
}

/** Per topic, while one produce request is assembled: its partition count and where its null-key records go. */
interface TopicBatch {
  readonly partitionCount: number
  nullKeyPartition: number | undefined
}

/** The library's transaction handle (its class is not exported). */
type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>

/**
 * send() may be left unawaited (the runtime awaits flush() or its own bookkeeping instead): its failure is reported
 * again by flush(), so the promise is marked handled rather than crashing the process as an unhandled rejection.
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {})
  return promise
}

export function createProducer(options: ProducerOptions): KafkaProducer {
  return new StreamlaneProducer(resolveProducerOptions(options))
}

class StreamlaneProducer implements KafkaProducer {
  readonly #resolved: Resolved
  readonly #producer: Producer
  readonly #watch: ConnectionWatch
  readonly #batcher: ProduceBatcher<ProducerRecord, RecordMetadata>
  /** Round-robin position per topic for records without key and partition (one partition per request). */
  readonly #nextPartition = new Map<string, number>()
  /** The transaction and group coordinators that sendOffsetsToTransaction talks to, looked up once. */
  readonly #coordinators = new CoordinatorCache()
  #transaction: Transaction | undefined
  /** Whether the open transaction holds anything; an empty one ends locally (EndTxn would be refused). */
  #transactionUsed = false
  #fenced: ProducerFencedError | undefined
  #closed = false

  constructor(resolved: Resolved) {
    this.#resolved = resolved
    // The library retries a failed produce `retries` times; give it enough to ride out a broker restart within the
    // delivery timeout, which bounds the whole call anyway.
    const retries = Math.max(
      resolved.retries,
      Math.ceil(resolved.deliveryTimeoutMs / Math.max(resolved.retryDelayMs, 100))
    )
    this.#producer = new Producer({
      ...libraryOptions({ ...resolved, retries }, 'producer'),
      // Sent as the broker-side Produce timeout and as the transaction timeout of InitProducerId.
      timeout: resolved.transactionTimeoutMs,
      idempotent: resolved.idempotent,
      // InitProducerId must say "no current producer" (-1 / -1). The library's default of 0 / 0 claims to be producer
      // 0 and is refused with PRODUCER_FENCED when the transactional id already has a producer, i.e. on every restart.
      producerId: -1n,
      producerEpoch: -1,
      ...(resolved.transactionalId ? { transactionalId: resolved.transactionalId } : {}),
      acks: ACKS[resolved.acks],
      compression: resolved.compression
    })
    this.#watch = new ConnectionWatch(this.#producer)
    this.#batcher = new ProduceBatcher({
      lingerMs: resolved.lingerMs,
      batchBytes: resolved.batchSize,
      dispatch: (records) => this.#produce(records),
      hold: resolved.holdWhile
    })
  }

  get transactionalId(): string | undefined {
    return this.#resolved.transactionalId
  }

  get inTransaction(): boolean {
    return this.#transaction !== undefined
  }

  #check(what: string): void {
    if (this.#closed) throw new KafkaClosedError(`the Kafka producer (${what})`)
    if (this.#fenced) throw this.#fenced
  }

  /**
   * Right before a request that writes to the open transaction (its offsets, its commit): the owner's `holdWhile` is
   * asked at the last moment, so a process paused in the middle of a commit sends nothing more once it wakes up.
   */
  #checkHold(what: string): void {
    if (this.#resolved.holdWhile?.()) throw new WritesHeldError(what)
  }

  #context(operation: string, topics?: string[]) {
    return {
      operation,
      brokers: this.#resolved.brokers,
      ...saslIdentity(this.#resolved),
      ...(topics ? { topics } : {}),
      ...(this.#resolved.transactionalId ? { transactionalId: this.#resolved.transactionalId } : {})
    }
  }

  /** Remembers fencing: the producer is dead for good, every later call must say so rather than try again. */
  #fail(error: unknown, operation: string, topics?: string[]): StreamlaneError {
    const translated = translateKafkaError(error, this.#context(operation, topics))
    if (translated instanceof ProducerFencedError) this.#fenced = translated
    return translated
  }

  send(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    try {
      this.#check('send')
      if (this.#resolved.transactionalId && !this.#transaction) {
        throw new KafkaRequestError(
          'send',
          `transactional producer ${this.#resolved.transactionalId} must beginTransaction() first`
        )
      }
    } catch (error) {
      return handled(Promise.reject(error))
    }
    if (this.#transaction) this.#transactionUsed = true
    // Split so that no request exceeds batchSize (the broker refuses a partition batch above message.max.bytes).
    const chunks: Promise<RecordMetadata[]>[] = []
    let chunk: ProducerRecord[] = []
    let bytes = 0
    for (const r of records) {
      const size = recordSize(r)
      if (chunk.length > 0 && bytes + size > this.#resolved.batchSize) {
        chunks.push(this.#batcher.add(chunk, bytes))
        chunk = []
        bytes = 0
      }
      chunk.push(r)
      bytes += size
    }
    chunks.push(this.#batcher.add(chunk, bytes))
    if (chunks.length === 1) return chunks[0]!
    return handled(Promise.all(chunks).then((parts) => parts.flat()))
  }

  flush(): Promise<void> {
    if (this.#closed) return Promise.reject(new KafkaClosedError('the Kafka producer (flush)'))
    return runWithDeadline(
      () => this.#batcher.flush(),
      this.#resolved.deliveryTimeoutMs,
      this.#context('flush'),
      this.#watch
    )
  }

  /**
   * One produce request for records of any topics; maps the per-partition base offsets back to each record. Runs for
   * every produced record, so per-topic state is looked up once per run of records of the same topic, and record
   * positions are kept in arrays rather than in maps keyed by topic-partition strings.
   */
  async #produce(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    const topicSet = new Set<string>()
    for (const r of records) topicSet.add(r.topic)
    const topics = [...topicSet]
    const work = async () => {
      const deadline = Date.now() + this.#resolved.deliveryTimeoutMs
      const metadata = await loadTopicMetadata(this.#producer, topics, this.#resolved, deadline, false)
      const count = records.length
      const messages: MessageToProduce[] = new Array(count)
      const partitions: number[] = new Array(count)
      const byTopic = new Map<string, TopicBatch>()
      let topic: string | undefined
      let batch: TopicBatch | undefined
      for (let i = 0; i < count; i++) {
        const r = records[i]!
        if (r.topic !== topic || batch === undefined) {
          topic = r.topic
          batch = byTopic.get(topic)
          if (batch === undefined) {
            batch = { partitionCount: metadata.topics.get(topic)?.partitionsCount ?? 0, nullKeyPartition: undefined }
            byTopic.set(topic, batch)
          }
        }
        const partitionCount = batch.partitionCount
        let partition = r.partition
        if (partition === undefined) {
          if (r.key) {
            partition = murmur2Partition(r.key, partitionCount)
          } else {
            partition = batch.nullKeyPartition
            if (partition === undefined) {
              const next = this.#nextPartition.get(topic) ?? 0
              partition = next % partitionCount
              this.#nextPartition.set(topic, next + 1)
              batch.nullKeyPartition = partition
            }
          }
        } else if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
          throw new KafkaRequestError('send', `topic ${topic} has no partition ${partition} (it has ${partitionCount})`)
        }
        partitions[i] = partition
        const message: MessageToProduce = { topic, partition, value: r.value as Buffer }
        if (r.key) message.key = r.key
        if (r.timestamp !== undefined) message.timestamp = BigInt(r.timestamp)
        if (r.headers?.length) {
          // Buffer keys: a Map keyed by string would merge repeated header names, which Kafka allows.
          message.headers = new Map(r.headers.map(([k, v]) => [Buffer.from(k), v])) as never
        }
        messages[i] = message
      }
      const result = this.#transaction
        ? await this.#transaction.send({ messages })
        : await this.#producer.send({ messages })
      // The next offset of each written partition: a partition's records got consecutive offsets in request order.
      const nextOffsets = new Map<string, bigint[]>()
      for (const o of result.offsets ?? []) {
        let offsets = nextOffsets.get(o.topic)
        if (offsets === undefined) {
          offsets = []
          nextOffsets.set(o.topic, offsets)
        }
        offsets[o.partition] = o.offset
      }
      const written: RecordMetadata[] = new Array(count)
      topic = undefined
      let next: bigint[] | undefined
      for (let i = 0; i < count; i++) {
        const recordTopic = records[i]!.topic
        if (recordTopic !== topic) {
          topic = recordTopic
          next = nextOffsets.get(topic)
        }
        const partition = partitions[i]!
        const offset = next?.[partition]
        if (offset === undefined) {
          // acks 'none' returns no offsets: -1 says "written, position unknown".
          written[i] = { topic, partition, offset: -1n }
        } else {
          written[i] = { topic, partition, offset }
          next![partition] = offset + 1n
        }
      }
      return written
    }
    try {
      return await runWithDeadline(work, this.#resolved.deliveryTimeoutMs, this.#context('send', topics), this.#watch)
    } catch (error) {
      throw this.#fail(error, 'send', topics)
    }
  }

  async beginTransaction(): Promise<void> {
    this.#check('beginTransaction')
    const transactionalId = this.#resolved.transactionalId
    if (!transactionalId) throw new KafkaRequestError('beginTransaction', 'the producer has no transactionalId')
    if (this.#transaction)
      throw new KafkaRequestError('beginTransaction', `transaction of ${transactionalId} is already open`)
    await this.#batcher.idle()
    try {
      this.#transaction = await runWithDeadline(
        () => this.#producer.beginTransaction(),
        this.#resolved.requestTimeoutMs * 2,
        this.#context('beginTransaction'),
        this.#watch
      )
      this.#transactionUsed = false
    } catch (error) {
      throw this.#fail(error, 'beginTransaction')
    }
  }

  async sendOffsetsToTransaction(offsets: TransactionOffsets): Promise<void> {
    this.#check('sendOffsetsToTransaction')
    const transactionalId = this.#resolved.transactionalId
    const producerId = this.#producer.producerId
    const producerEpoch = this.#producer.producerEpoch
    if (!this.#transaction || !transactionalId || producerId === undefined || producerEpoch === undefined) {
      throw new KafkaRequestError('sendOffsetsToTransaction', 'no transaction is open; call beginTransaction() first')
    }
    this.#transactionUsed = true
    const deadlineMs = this.#resolved.requestTimeoutMs
    try {
      await runWithDeadline(
        () =>
          sendTransactionOffsets(
            this.#producer,
            { transactionalId, producerId, producerEpoch },
            offsets,
            Date.now() + deadlineMs,
            this.#resolved.retryDelayMs,
            () => this.#checkHold(`the offsets of transaction ${transactionalId} are`),
            this.#coordinators
          ),
        deadlineMs,
        {
          ...this.#context('sendOffsetsToTransaction'),
          groupId: offsets.groupId,
          generationId: offsets.generationId,
          memberId: offsets.memberId
        },
        this.#watch
      )
    } catch (error) {
      throw this.#fail(error, 'sendOffsetsToTransaction')
    }
  }

  async commitTransaction(): Promise<void> {
    this.#check('commitTransaction')
    const transaction = this.#requireTransaction('commitTransaction')
    const held = `the commit of transaction ${this.#resolved.transactionalId} is`
    // Records held back would keep the flush waiting; the commit cannot go out anyway.
    this.#checkHold(held)
    // Every record must be acknowledged before EndTxn, or it would not belong to the committed transaction.
    await this.flush()
    this.#checkHold(held)
    await this.#end(transaction, true)
  }

  async abortTransaction(): Promise<void> {
    this.#check('abortTransaction')
    const transaction = this.#requireTransaction('abortTransaction')
    this.#batcher.discardQueued(new KafkaRequestError('send', 'the transaction was aborted before the record was sent'))
    await this.#batcher.idle()
    this.#batcher.clearError()
    await this.#end(transaction, false)
  }

  async discardUnsent(reason: Error): Promise<void> {
    this.#batcher.discardQueued(reason)
    await this.#batcher.idle()
    this.#batcher.clearError()
  }

  #requireTransaction(operation: string): Transaction {
    if (!this.#transaction) throw new KafkaRequestError(operation, 'no transaction is open')
    return this.#transaction
  }

  async #end(transaction: Transaction, commit: boolean): Promise<void> {
    const operation = commit ? 'commitTransaction' : 'abortTransaction'
    try {
      if (this.#transactionUsed) {
        await runWithDeadline(
          () => (commit ? transaction.commit() : transaction.abort()),
          this.#resolved.requestTimeoutMs,
          this.#context(operation),
          this.#watch
        )
      } else {
        await transaction.cancel()
      }
      this.#transaction = undefined
    } catch (error) {
      throw this.#fail(error, operation)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    try {
      // Records held back (ownership in doubt) are not sent on the way out either.
      if (!this.#fenced && !this.#transaction && !this.#resolved.holdWhile?.()) await this.flush().catch(() => {})
      this.#batcher.discardQueued(new KafkaClosedError('the Kafka producer'))
    } finally {
      this.#closed = true
      await withDeadline(
        this.#producer.close(true),
        this.#resolved.requestTimeoutMs,
        () => new KafkaTimeoutError('close producer', this.#resolved.requestTimeoutMs)
      ).catch(() => {})
    }
  }
}
