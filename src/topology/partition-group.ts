import { type TopicPartition, topicPartitionKey } from './record.ts'
import { RecordQueue } from './record-queue.ts'

export interface PartitionGroupOptions {
  /**
   * How long a task holding data for some partitions waits for data on its empty partitions before it goes ahead
   * (then possibly out of timestamp order). 0, the default, never waits.
   */
  readonly maxTaskIdleMs?: number
}

export interface BufferedCount extends TopicPartition {
  readonly count: number
}

/**
 * The input buffers of one task: a queue per partition, drained in timestamp order across partitions by always
 * taking the head with the smallest timestamp. Stream time is the largest timestamp taken so far and never goes
 * back. Pure: the runtime adds fetched records and reads the buffered counts to pause and resume fetching.
 */
export class PartitionGroup<Raw, Decoded extends { readonly timestamp: number }> {
  readonly #queues = new Map<string, RecordQueue<Raw, Decoded>>()
  /** The same queues by topic, then partition number: looked up per record, without building a key string. */
  readonly #byTopic = new Map<string, RecordQueue<Raw, Decoded>[]>()
  readonly #decode: (raw: Raw, queue: RecordQueue<Raw, Decoded>) => Decoded | undefined
  readonly #maxTaskIdleMs: number
  #streamTime = -1
  #idleSince: number | undefined

  constructor(
    partitions: readonly TopicPartition[],
    decode: (raw: Raw, queue: RecordQueue<Raw, Decoded>) => Decoded | undefined,
    options: PartitionGroupOptions = {}
  ) {
    this.#decode = decode
    this.#maxTaskIdleMs = options.maxTaskIdleMs ?? 0
    for (const { topic, partition } of partitions) this.addPartition(topic, partition)
  }

  /** Adds an input partition (a new topic matching a pattern source); a no-op if it is already an input. */
  addPartition(topic: string, partition: number): void {
    const key = topicPartitionKey(topic, partition)
    if (this.#queues.has(key)) return
    const queue: RecordQueue<Raw, Decoded> = new RecordQueue(topic, partition, (raw) => this.#decode(raw, queue))
    this.#queues.set(key, queue)
    let partitions = this.#byTopic.get(topic)
    if (partitions === undefined) {
      partitions = []
      this.#byTopic.set(topic, partitions)
    }
    partitions[partition] = queue
  }

  #queueOf(topic: string, partition: number): RecordQueue<Raw, Decoded> | undefined {
    return this.#byTopic.get(topic)?.[partition]
  }

  get streamTimeMs(): number {
    return this.#streamTime
  }

  partitions(): TopicPartition[] {
    return [...this.#queues.values()].map(({ topic, partition }) => ({ topic, partition }))
  }

  has(topic: string, partition: number): boolean {
    return this.#queueOf(topic, partition) !== undefined
  }

  add(topic: string, partition: number, records: Iterable<Raw>): void {
    const queue = this.#queueOf(topic, partition)
    if (!queue) throw new RangeError(`partition ${topic}-${partition} is not an input of this task`)
    queue.add(records)
  }

  /** Buffers one record; false (nothing buffered) when its partition is not an input of this task. */
  addOne(topic: string, partition: number, record: Raw): boolean {
    const queue = this.#queueOf(topic, partition)
    if (queue === undefined) return false
    queue.addOne(record)
    return true
  }

  bufferedCount(topic: string, partition: number): number {
    return this.#queueOf(topic, partition)?.size ?? 0
  }

  bufferedCounts(): BufferedCount[] {
    return [...this.#queues.values()].map(({ topic, partition, size }) => ({ topic, partition, count: size }))
  }

  get totalBuffered(): number {
    let total = 0
    for (const queue of this.#queues.values()) total += queue.size
    return total
  }

  partitionTimeMs(topic: string, partition: number): number {
    return this.#queueOf(topic, partition)?.partitionTimeMs ?? -1
  }

  /** A partition's time as its last owner committed it; stream time moves up to it (it never goes back). */
  setPartitionTime(topic: string, partition: number, timestampMs: number): void {
    const queue = this.#queueOf(topic, partition)
    if (!queue) throw new RangeError(`partition ${topic}-${partition} is not an input of this task`)
    queue.setPartitionTime(timestampMs)
    if (timestampMs > this.#streamTime) this.#streamTime = timestampMs
  }

  /**
   * Whether the next record may be taken now: when every partition has data, or some has and the task has waited
   * `maxTaskIdleMs` for the others.
   */
  readyToProcess(nowMs: number): boolean {
    let buffered = 0
    let empty = 0
    for (const queue of this.#queues.values()) {
      if (queue.size > 0) buffered++
      else empty++
    }
    if (buffered === 0) {
      this.#idleSince = undefined
      return false
    }
    if (empty === 0 || this.#maxTaskIdleMs <= 0) {
      this.#idleSince = undefined
      return true
    }
    this.#idleSince ??= nowMs
    return nowMs - this.#idleSince >= this.#maxTaskIdleMs
  }

  /** Takes the record with the smallest timestamp among the partition heads (ties: the partition listed first). */
  next(): { record: Decoded; queue: RecordQueue<Raw, Decoded> } | undefined {
    let best: RecordQueue<Raw, Decoded> | undefined
    let bestTimestamp = Number.POSITIVE_INFINITY
    for (const queue of this.#queues.values()) {
      const head = queue.head()
      if (head !== undefined && head.timestamp < bestTimestamp) {
        best = queue
        bestTimestamp = head.timestamp
      }
    }
    if (!best) return undefined
    const record = best.poll()!
    if (record.timestamp > this.#streamTime) this.#streamTime = record.timestamp
    return { record, queue: best }
  }

  clear(): void {
    for (const queue of this.#queues.values()) queue.clear()
  }
}
