import type { BytesEntry, BytesLayer, ChangelogCodec } from './bytes-store.ts'

/**
 * Where changelog records go. The runtime implements it over its (transactional) producer; the state layer never
 * touches Kafka. `send` must not block: the runtime buffers, and before it commits it waits for every record sent so
 * far to be acknowledged, then tells the stores the changelog offsets (`TaskStateManager.commit`).
 */
export interface ChangelogSink {
  send(topic: string, partition: number, key: Buffer, value: Buffer | null, timestamp: number): void
}

/**
 * Records every put and delete in the store's changelog topic, partition = task partition, after writing it below.
 * Restoration writes beneath this layer (`PendingWrites.backend`), so restored records are never logged again, and
 * retention expiry passes through unlogged.
 */
export class ChangeLoggingLayer implements BytesLayer {
  readonly #inner: BytesLayer
  readonly #sink: ChangelogSink
  readonly #topic: string
  readonly #partition: number
  readonly #codec: ChangelogCodec
  /** Records sent, for tests and metrics. */
  sent = 0

  constructor(inner: BytesLayer, sink: ChangelogSink, topic: string, partition: number, codec: ChangelogCodec) {
    this.#inner = inner
    this.#sink = sink
    this.#topic = topic
    this.#partition = partition
    this.#codec = codec
  }

  get(key: Buffer): Buffer | undefined {
    return this.#inner.get(key)
  }

  range(from: Buffer | undefined, to: Buffer | undefined, reverse: boolean): Iterator<BytesEntry> {
    return this.#inner.range(from, to, reverse)
  }

  approximateNumEntries(): number {
    return this.#inner.approximateNumEntries()
  }

  put(key: Buffer, value: Buffer | null, timestamp: number): void {
    this.#inner.put(key, value, timestamp)
    const changelogKey = this.#codec.toChangelogKey(key)
    if (value === null) {
      this.#sink.send(this.#topic, this.#partition, changelogKey, null, timestamp)
    } else {
      const record = this.#codec.toChangelogValue(value)
      this.#sink.send(this.#topic, this.#partition, changelogKey, record.value, record.timestamp ?? timestamp)
    }
    this.sent++
  }

  expireBefore(bound: Buffer): void {
    this.#inner.expireBefore(bound)
  }
}
