/**
 * The buffered records of one input partition of a task. Records are decoded (deserialized, timestamp extracted)
 * only when they reach the head: the head's timestamp is what orders partitions, and decoding later records early
 * would let a skipped bad record be marked done before the records ahead of it were processed.
 */
export class RecordQueue<Raw, Decoded extends { readonly timestamp: number }> {
  readonly topic: string
  readonly partition: number
  readonly #decode: (raw: Raw) => Decoded | undefined
  #raw: Raw[] = []
  #start = 0
  #head: Decoded | undefined
  /** Largest timestamp seen on this partition, -1 before any. */
  #partitionTime = -1

  /** `decode` returns undefined for a record to skip (it handles and accounts for the skip itself). */
  constructor(topic: string, partition: number, decode: (raw: Raw) => Decoded | undefined) {
    this.topic = topic
    this.partition = partition
    this.#decode = decode
  }

  get size(): number {
    return this.#raw.length - this.#start + (this.#head === undefined ? 0 : 1)
  }

  get partitionTimeMs(): number {
    return this.#partitionTime
  }

  /** Starts the partition time where the last owner left it (from the committed offset's metadata). */
  setPartitionTime(timestampMs: number): void {
    this.#partitionTime = timestampMs
  }

  add(records: Iterable<Raw>): void {
    for (const record of records) this.#raw.push(record)
  }

  addOne(record: Raw): void {
    this.#raw.push(record)
  }

  /** The decoded head, decoding (and skipping bad records) as needed. */
  head(): Decoded | undefined {
    while (this.#head === undefined && this.#start < this.#raw.length) {
      const raw = this.#raw[this.#start]!
      this.#raw[this.#start] = undefined as Raw
      this.#start++
      this.#head = this.#decode(raw)
    }
    this.#compact()
    return this.#head
  }

  /** Removes and returns the head. */
  poll(): Decoded | undefined {
    const head = this.head()
    this.#head = undefined
    if (head !== undefined && head.timestamp > this.#partitionTime) this.#partitionTime = head.timestamp
    return head
  }

  clear(): void {
    this.#raw = []
    this.#start = 0
    this.#head = undefined
  }

  /** Drops consumed slots now and then, so a long-lived queue does not grow and shifting stays O(1). */
  #compact(): void {
    if (this.#start > 1024 && this.#start * 2 > this.#raw.length) {
      this.#raw = this.#raw.slice(this.#start)
      this.#start = 0
    }
  }
}
