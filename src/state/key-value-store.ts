import type { Serde } from '../serde/index.ts'
import { hasPrefix } from './bytes.ts'
import type { BytesEntry } from './bytes-store.ts'
import { InvalidStoreArgumentError } from './errors.ts'
import { emptyIterator, type KeyValue, type KeyValueIterator, MappingIterator } from './key-value-iterator.ts'
import { LayeredStore, type LayeredStoreOptions } from './layered-store.ts'
import type { CacheFlushListener, KeyValueStore } from './stores.ts'
import type { ValueFormat } from './value-formats.ts'

export interface LayeredKeyValueStoreOptions<K, V> extends LayeredStoreOptions {
  readonly keySerde: Serde<K>
  readonly valueFormat: ValueFormat<V>
}

/**
 * The key-value store (plain or timestamped, by its value format) over the byte layers. Physical keys are the
 * serialized keys, so scans are in serialized-key order.
 */
export class LayeredKeyValueStore<K, V> extends LayeredStore implements KeyValueStore<K, V> {
  readonly #keySerde: Serde<K>
  readonly #format: ValueFormat<V>

  constructor(options: LayeredKeyValueStoreOptions<K, V>) {
    super(options)
    this.#keySerde = options.keySerde
    this.#format = options.valueFormat
  }

  get(key: K): V | null {
    const bytes = this.layer.get(this.#keyBytes(key))
    return bytes === undefined ? null : this.#value(bytes)
  }

  put(key: K, value: V | null, deleteTimestampMs?: number): void {
    this.#write(this.#keyBytes(key), value, deleteTimestampMs)
  }

  putIfAbsent(key: K, value: V): V | null {
    const keyBytes = this.#keyBytes(key)
    const existing = this.layer.get(keyBytes)
    if (existing !== undefined) return this.#value(existing)
    this.#write(keyBytes, value)
    return null
  }

  putAll(entries: Iterable<KeyValue<K, V | null>>): void {
    for (const { key, value } of entries) this.put(key, value)
  }

  delete(key: K): V | null {
    const keyBytes = this.#keyBytes(key)
    const old = this.layer.get(keyBytes)
    // Logged even when absent, as Kafka Streams does: a replica may still have the key.
    this.layer.put(keyBytes, null, this.currentTimestamp())
    return old === undefined ? null : this.#value(old)
  }

  range(from: K | null, to: K | null): KeyValueIterator<K, V> {
    return this.#range(from, to, false)
  }

  reverseRange(from: K | null, to: K | null): KeyValueIterator<K, V> {
    return this.#range(from, to, true)
  }

  all(): KeyValueIterator<K, V> {
    return this.#entries(this.layer.range(undefined, undefined, false))
  }

  reverseAll(): KeyValueIterator<K, V> {
    return this.#entries(this.layer.range(undefined, undefined, true))
  }

  prefixScan<P>(prefix: P, prefixSerde: Serde<P>): KeyValueIterator<K, V> {
    const prefixBytes = prefixSerde.serialize(this.serdeTopic, prefix)
    if (prefixBytes === null)
      throw new InvalidStoreArgumentError(this.name, 'prefixScan: the prefix serializes to null')
    return this.#entries(takeWhilePrefixed(this.layer.range(prefixBytes, undefined, false), prefixBytes))
  }

  setFlushListener(listener: CacheFlushListener<K, V>, sendOldValues: boolean): boolean {
    return this.setBytesFlushListener((key, newValue, oldValue, timestamp) => {
      listener({
        key: this.#keyOf(key),
        newValue: newValue === null ? null : this.#value(newValue),
        oldValue: oldValue === null ? null : this.#value(oldValue),
        timestamp
      })
    }, sendOldValues)
  }

  #write(keyBytes: Buffer, value: V | null, deleteTimestampMs?: number): void {
    const bytes = value === null ? null : this.#format.serialize(this.serdeTopic, value)
    const timestamp =
      (value === null ? (deleteTimestampMs ?? null) : this.#format.timestampOf(value)) ?? this.currentTimestamp()
    this.layer.put(keyBytes, bytes, timestamp)
  }

  #range(from: K | null, to: K | null, reverse: boolean): KeyValueIterator<K, V> {
    const fromBytes = from === null ? undefined : this.#keyBytes(from)
    const toBytes = to === null ? undefined : this.#keyBytes(to)
    if (fromBytes !== undefined && toBytes !== undefined && Buffer.compare(fromBytes, toBytes) > 0) {
      return emptyIterator()
    }
    return this.#entries(this.layer.range(fromBytes, toBytes, reverse))
  }

  #entries(source: Iterator<BytesEntry>): KeyValueIterator<K, V> {
    return new MappingIterator(source, (entry: BytesEntry) => ({
      key: this.#keyOf(entry.key),
      value: this.#value(entry.value)
    }))
  }

  #keyBytes(key: K): Buffer {
    if (key === null || key === undefined) {
      throw new InvalidStoreArgumentError(this.name, 'keys cannot be null (records without a key cannot be stored)')
    }
    const bytes = this.#keySerde.serialize(this.serdeTopic, key)
    if (bytes === null) throw new InvalidStoreArgumentError(this.name, 'the key serde turned a key into null')
    this.checkKeySize(bytes.length, bytes.length)
    return bytes
  }

  #keyOf(bytes: Buffer): K {
    return this.#keySerde.deserialize(this.serdeTopic, bytes) as K
  }

  #value(bytes: Buffer): V {
    return this.#format.deserialize(this.serdeTopic, bytes)
  }
}

function* takeWhilePrefixed(source: Iterator<BytesEntry>, prefix: Buffer): Generator<BytesEntry, undefined> {
  try {
    for (let step = source.next(); !step.done; step = source.next()) {
      if (!hasPrefix(step.value.key, prefix)) return
      yield step.value
    }
  } finally {
    source.return?.()
  }
}
