import type { Serde } from '../serde/index.ts'
import { Headers } from '../serde/index.ts'
import { forEachInOrder } from '../topology/index.ts'

/** What an input topic needs from its driver. */
export interface InputSink {
  pipe(
    topic: string,
    key: Buffer | null,
    value: Buffer | null,
    timestamp: number,
    headers: Headers
  ): void | Promise<void>
}

export interface TestInputTopicOptions {
  /** Timestamp of records piped without one. Default: the driver's wall-clock time when the topic is created. */
  readonly startTimestampMs?: number
  /** Added to that timestamp after each record piped without one. Default 0. */
  readonly autoAdvanceMs?: number
}

export interface PipedRecord<K, V> {
  readonly key: K
  readonly value: V
  readonly timestamp?: number
  readonly headers?: Headers | { readonly [key: string]: string | Buffer | null }
}

/**
 * Writes records into a topic of the driver, serialized with this topic's serdes, and processes them at once.
 * Every method returns a promise only when an asynchronous processor was involved: `await` it then (awaiting is
 * always safe).
 */
export class TestInputTopic<K, V> {
  readonly topic: string
  readonly #sink: InputSink
  readonly #keySerde: Serde<K>
  readonly #valueSerde: Serde<V>
  readonly #autoAdvanceMs: number
  #currentTimeMs: number

  constructor(
    topic: string,
    sink: InputSink,
    keySerde: Serde<K>,
    valueSerde: Serde<V>,
    startTimestampMs: number,
    autoAdvanceMs: number
  ) {
    this.topic = topic
    this.#sink = sink
    this.#keySerde = keySerde
    this.#valueSerde = valueSerde
    this.#currentTimeMs = startTimestampMs
    this.#autoAdvanceMs = autoAdvanceMs
  }

  pipeInput(key: K, value: V, timestampMs?: number): void | Promise<void> {
    return this.pipeRecord(timestampMs === undefined ? { key, value } : { key, value, timestamp: timestampMs })
  }

  pipeRecord(record: PipedRecord<K, V>): void | Promise<void> {
    const headers = record.headers instanceof Headers ? record.headers : Headers.from(record.headers ?? {})
    let timestamp = record.timestamp
    if (timestamp === undefined) {
      timestamp = this.#currentTimeMs
      this.#currentTimeMs += this.#autoAdvanceMs
    }
    return this.#sink.pipe(
      this.topic,
      this.#keySerde.serialize(this.topic, record.key, headers),
      this.#valueSerde.serialize(this.topic, record.value, headers),
      timestamp,
      headers
    )
  }

  pipeRecordList(records: readonly PipedRecord<K, V>[]): void | Promise<void> {
    return forEachInOrder(records, (record) => this.pipeRecord(record))
  }

  pipeKeyValueList(pairs: readonly (readonly [K, V])[]): void | Promise<void> {
    return forEachInOrder(pairs, ([key, value]) => this.pipeInput(key, value))
  }

  /** Moves the timestamp given to records piped without one. */
  advanceTime(ms: number): void {
    this.#currentTimeMs += ms
  }
}
