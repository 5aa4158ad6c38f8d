/**
 * The buffered records of one task in key-ordered mode (`processingOrder: 'key'`): which record may start next, and
 * which offset is safe to commit. Records of different keys may be in flight at once; records of one key start only
 * after the previous one of that key finished, in offset order (the keys of several partitions of a task share one
 * order: the same key bytes are the same key). The committable offset of a partition is its lowest unfinished record
 * (in flight, or skipped because its key was busy and still buffered), so a commit never passes an unfinished record.
 *
 * Pure: no I/O, no clock. The task manager adds fetched records and starts what `take()` returns; it reports each
 * record's successful end with `finish()` (a failed record is never finished: nothing past it is committed).
 */
import { topicPartitionKey } from '../topic-partition.ts'

/** What the queue needs of a record. */
export interface KeyedRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly timestamp: number
  readonly key: Buffer | null
}

/** A record the queue handed out, to give back with `finish()`. */
export interface TakenRecord<R extends KeyedRecord> {
  readonly record: R
  readonly key: string
}

interface Lane<R extends KeyedRecord> {
  readonly topic: string
  readonly partition: number
  /** Records not started yet, in offset order; started ones leave a hole (undefined) until `start` passes them. */
  buffered: (TakenRecord<R> | undefined)[]
  start: number
  count: number
  /** Offsets started and not finished. */
  readonly inFlight: Set<bigint>
  /** The offset after the furthest record started; undefined before any. */
  nextAfterStarted: bigint | undefined
  /** Whether a record of it finished: before that, nothing moved and there is nothing to commit. */
  finishedAny: boolean
}

/**
 * The identity of a key: its bytes (latin1 maps each byte to one character, so distinct bytes stay distinct). Null
 * keys are one key: records without a key keep their order among themselves.
 */
export function keyIdentity(key: Buffer | null): string {
  return key === null ? 'n' : `k${key.toString('latin1')}`
}

export class KeyOrderedQueue<R extends KeyedRecord> {
  /** By partition key, in the order partitions got their first record. */
  readonly #lanes = new Map<string, Lane<R>>()
  /** Keys with a record in flight. */
  readonly #busyKeys = new Set<string>()
  #buffered = 0
  #inFlight = 0

  /** Buffers a fetched record (records of a partition arrive in offset order). */
  add(record: R): void {
    const lane = this.#lane(record.topic, record.partition)
    lane.buffered.push({ record, key: keyIdentity(record.key) })
    lane.count++
    this.#buffered++
  }

  /** Records buffered and not started, over every partition. */
  get buffered(): number {
    return this.#buffered
  }

  /** Records started and not finished. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Records buffered and not started, per partition (what back-pressure pauses fetching on). */
  bufferedCounts(): { topic: string; partition: number; count: number }[] {
    return [...this.#lanes.values()].map(({ topic, partition, count }) => ({ topic, partition, count }))
  }

  /**
   * Starts the record that may start next: per partition, the first buffered record whose key has no record in
   * flight and no earlier record still buffered; across partitions, the one with the smallest timestamp (ties: the
   * partition that got records first). `holesOnly`: only records before the furthest started one of their partition
   * (a task draining for a commit fills its gaps and takes nothing new). Undefined when none may start.
   */
  take(holesOnly = false): TakenRecord<R> | undefined {
    let best: { lane: Lane<R>; index: number; entry: TakenRecord<R> } | undefined
    for (const lane of this.#lanes.values()) {
      const found = this.#firstStartable(lane, holesOnly)
      if (found && (!best || found.entry.record.timestamp < best.entry.record.timestamp)) best = { lane, ...found }
    }
    if (!best) return undefined
    const { lane, index, entry } = best
    lane.buffered[index] = undefined
    lane.count--
    this.#buffered--
    this.#advance(lane)
    const { offset } = entry.record
    lane.inFlight.add(offset)
    if (lane.nextAfterStarted === undefined || offset >= lane.nextAfterStarted) lane.nextAfterStarted = offset + 1n
    this.#busyKeys.add(entry.key)
    this.#inFlight++
    return entry
  }

  /** A started record finished successfully: its key may go on, and the committable offset may move past it. */
  finish(taken: TakenRecord<R>): void {
    const lane = this.#lanes.get(topicPartitionKey(taken.record.topic, taken.record.partition))
    if (!lane?.inFlight.delete(taken.record.offset)) return
    lane.finishedAny = true
    this.#busyKeys.delete(taken.key)
    this.#inFlight--
  }

  /** Whether some partition has a buffered record before its furthest started one (a gap a commit must wait for). */
  get hasHoles(): boolean {
    for (const lane of this.#lanes.values()) if (this.#firstBufferedOffset(lane, true) !== undefined) return true
    return false
  }

  /**
   * The offset to commit for a partition: its lowest record not finished (in flight, or buffered before the furthest
   * started one), else the offset after the furthest started one. Undefined until a record of it finished.
   */
  committable(topic: string, partition: number): bigint | undefined {
    const lane = this.#lanes.get(topicPartitionKey(topic, partition))
    if (lane?.nextAfterStarted === undefined || !lane.finishedAny) return undefined
    let lowest = lane.nextAfterStarted
    for (const offset of lane.inFlight) if (offset < lowest) lowest = offset
    const gap = this.#firstBufferedOffset(lane, true)
    return gap !== undefined && gap < lowest ? gap : lowest
  }

  /** Whether a partition has records buffered or in flight (otherwise the reader's position may be committed). */
  isDrained(topic: string, partition: number): boolean {
    const lane = this.#lanes.get(topicPartitionKey(topic, partition))
    return lane === undefined || (lane.count === 0 && lane.inFlight.size === 0)
  }

  #lane(topic: string, partition: number): Lane<R> {
    const key = topicPartitionKey(topic, partition)
    let lane = this.#lanes.get(key)
    if (lane === undefined) {
      lane = {
        topic,
        partition,
        buffered: [],
        start: 0,
        count: 0,
        inFlight: new Set(),
        nextAfterStarted: undefined,
        finishedAny: false
      }
      this.#lanes.set(key, lane)
    }
    return lane
  }

  #firstStartable(lane: Lane<R>, holesOnly: boolean): { index: number; entry: TakenRecord<R> } | undefined {
    if (lane.count === 0) return undefined
    // Keys skipped in this scan: a later record of theirs must wait for the earlier one.
    let skipped: Set<string> | undefined
    for (let i = lane.start; i < lane.buffered.length; i++) {
      const entry = lane.buffered[i]
      if (entry === undefined) continue
      if (holesOnly && (lane.nextAfterStarted === undefined || entry.record.offset >= lane.nextAfterStarted)) return
      if (!this.#busyKeys.has(entry.key) && !skipped?.has(entry.key)) return { index: i, entry }
      skipped ??= new Set()
      skipped.add(entry.key)
    }
    return undefined
  }

  /** The first buffered offset; with `beforeStarted`, only if it lies before the furthest started record. */
  #firstBufferedOffset(lane: Lane<R>, beforeStarted: boolean): bigint | undefined {
    if (lane.count === 0) return undefined
    const first = lane.buffered[lane.start]?.record.offset
    if (first === undefined) return undefined
    if (beforeStarted && (lane.nextAfterStarted === undefined || first >= lane.nextAfterStarted)) return undefined
    return first
  }

  /** Moves `start` past started records, and drops the consumed slots now and then so shifting stays cheap. */
  #advance(lane: Lane<R>): void {
    while (lane.start < lane.buffered.length && lane.buffered[lane.start] === undefined) lane.start++
    if (lane.count === 0) {
      lane.buffered = []
      lane.start = 0
    } else if (lane.start > 1024 && lane.start * 2 > lane.buffered.length) {
      lane.buffered = lane.buffered.slice(lane.start)
      lane.start = 0
    }
  }
}
