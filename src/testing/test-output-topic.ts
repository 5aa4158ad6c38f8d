import { StreamlaneError } from '../errors.ts'
import type { Serde } from '../serde/index.ts'
import type { ProducedRecord } from '../topology/index.ts'
import type { KeyValue, TestRecord } from './test-record.ts'

/** The records a topic received, with a read position shared by every reader of the topic. */
export interface OutputLog {
  readonly records: (ProducedRecord & { readonly offset: number })[]
  position: number
}

/** Reads, in order, what the topology wrote to a topic (repartition and dead-letter topics included). */
export class TestOutputTopic<K, V> {
  readonly topic: string
  readonly #log: OutputLog
  readonly #keySerde: Serde<K>
  readonly #valueSerde: Serde<V>

  constructor(topic: string, log: OutputLog, keySerde: Serde<K>, valueSerde: Serde<V>) {
    this.topic = topic
    this.#log = log
    this.#keySerde = keySerde
    this.#valueSerde = valueSerde
  }

  /** Records written and not yet read. */
  get queueSize(): number {
    return this.#log.records.length - this.#log.position
  }

  isEmpty(): boolean {
    return this.queueSize === 0
  }

  readRecord(): TestRecord<K, V> {
    const record = this.#log.records[this.#log.position]
    if (record === undefined) {
      throw new StreamlaneError('STREAMLANE_TEST_OUTPUT_EMPTY', `no unread record on output topic ${this.topic}`)
    }
    this.#log.position++
    return {
      topic: this.topic,
      key: this.#keySerde.deserialize(this.topic, record.key, record.headers) as K,
      value: this.#valueSerde.deserialize(this.topic, record.value, record.headers) as V,
      timestamp: record.timestamp,
      headers: record.headers,
      offset: record.offset
    }
  }

  readKeyValue(): KeyValue<K, V> {
    const { key, value } = this.readRecord()
    return { key, value }
  }

  readValue(): V {
    return this.readRecord().value
  }

  readRecordsToList(): TestRecord<K, V>[] {
    const records: TestRecord<K, V>[] = []
    while (!this.isEmpty()) records.push(this.readRecord())
    return records
  }

  readKeyValuesToList(): KeyValue<K, V>[] {
    return this.readRecordsToList().map(({ key, value }) => ({ key, value }))
  }

  readValuesToList(): V[] {
    return this.readRecordsToList().map(({ value }) => value)
  }

  /** The last value per key, as a table of the topic would hold it (null values delete). */
  readKeyValuesToMap(): Map<K, V> {
    const table = new Map<K, V>()
    for (const { key, value } of this.readRecordsToList()) {
      if (value === null) table.delete(key)
      else table.set(key, value)
    }
    return table
  }
}
