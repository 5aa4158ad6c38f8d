import type { Serde } from '../serde/index.ts'
import { MAX_TIMESTAMP, writeTimestamp } from './bytes.ts'
import type { BytesEntry } from './bytes-store.ts'
import { InvalidStoreArgumentError } from './errors.ts'
import { type KeyValue, type KeyValueIterator, MappingIterator } from './key-value-iterator.ts'
import { SegmentedStore, type SegmentedStoreOptions } from './segmented-store.ts'
import { SEGMENT_PREFIX_BYTES } from './segments.ts'
import type { CacheFlushListener, Windowed, WindowStore, WindowStoreIterator } from './stores.ts'
import type { ValueFormat } from './value-formats.ts'

/**
 * Physical key: segment id (8) + serialized key + window start (8, big-endian) + sequence number (4). Without the
 * segment prefix that is exactly Kafka Streams' WindowKeySchema (`key || timestamp || seqnum`), which is also the
 * changelog key. Within a segment one key's windows are contiguous and in start order, so a per-key time-range
 * fetch is one range scan per segment. The sequence number is 0 unless the store retains duplicates (stream-stream
 * joins), where every put gets a new one so equal keys and windows coexist.
 */
export const WINDOW_SUFFIX_BYTES = 12

export interface LayeredWindowStoreOptions<K, V> extends Omit<SegmentedStoreOptions<K>, 'suffixBytes'> {
  readonly keySerde: Serde<K>
  readonly valueFormat: ValueFormat<V>
  readonly windowSizeMs: number
  readonly retentionMs: number
  readonly retainDuplicates: boolean
}

export class LayeredWindowStore<K, V> extends SegmentedStore<K> implements WindowStore<K, V> {
  readonly windowSizeMs: number
  readonly retentionMs: number
  readonly #format: ValueFormat<V>
  readonly #retainDuplicates: boolean
  #sequence = 0
  /**
   * The physical key of the last single-window fetch. An aggregation fetches a window and then puts it: the put
   * reuses this key instead of building another, and the cache below finds its key string already made for it.
   */
  #fetched: { windowStart: number; physical: Buffer } | null = null

  constructor(options: LayeredWindowStoreOptions<K, V>) {
    super({ ...options, suffixBytes: WINDOW_SUFFIX_BYTES })
    this.#format = options.valueFormat
    this.windowSizeMs = options.windowSizeMs
    this.retentionMs = options.retentionMs
    this.#retainDuplicates = options.retainDuplicates
  }

  put(key: K, value: V | null, windowStartMs: number): void {
    if (!Number.isSafeInteger(windowStartMs) || windowStartMs < 0) {
      throw new InvalidStoreArgumentError(this.name, `window start ${windowStartMs} is not a non-negative integer (ms)`)
    }
    const keyBytes = this.keyBytes(key)
    if (!this.observeForPut(windowStartMs)) return
    // Kafka Streams ignores deletes in a store with duplicates: there is no single entry to delete.
    if (value === null && this.#retainDuplicates) return
    let sequence = 0
    if (this.#retainDuplicates) {
      this.#sequence = (this.#sequence + 1) >>> 0
      sequence = this.#sequence
    }
    const bytes = value === null ? null : this.#format.serialize(this.serdeTopic, value)
    const timestamp = (value === null ? null : this.#format.timestampOf(value)) ?? this.currentTimestamp()
    const fetched = this.#fetched
    const physical =
      !this.#retainDuplicates &&
      fetched !== null &&
      fetched.windowStart === windowStartMs &&
      sameKey(fetched.physical, keyBytes)
        ? fetched.physical
        : this.#physicalKey(keyBytes, windowStartMs, sequence)
    this.layer.put(physical, bytes, timestamp)
  }

  fetch(key: K, windowStart: number): V | null
  fetch(key: K, timeFrom: number, timeTo: number): WindowStoreIterator<V>
  fetch(key: K, timeFrom: number, timeTo?: number): V | null | WindowStoreIterator<V> {
    if (timeTo !== undefined) return this.#fetch(key, timeFrom, timeTo, false)
    if (timeFrom < this.segments.minLiveTime()) return null
    if (!this.#retainDuplicates) {
      const keyBytes = this.keyBytes(key)
      const physical = this.#physicalKey(keyBytes, timeFrom, 0)
      this.#fetched = { windowStart: timeFrom, physical }
      const bytes = this.layer.get(physical)
      return bytes === undefined ? null : this.#format.deserialize(this.serdeTopic, bytes)
    }
    // With duplicates: the oldest entry of that window.
    const iterator = this.#fetch(key, timeFrom, timeFrom, false)
    try {
      const first = iterator.next()
      return first.done ? null : first.value.value
    } finally {
      iterator.close()
    }
  }

  backwardFetch(key: K, timeFrom: number, timeTo: number): WindowStoreIterator<V> {
    return this.#fetch(key, timeFrom, timeTo, true)
  }

  fetchAll(timeFrom: number, timeTo: number): KeyValueIterator<Windowed<K>, V> {
    const minLive = this.segments.minLiveTime()
    const source = this.scanSegments(timeFrom, timeTo, false, (segment) => this.wholeSegment(segment))
    return new MappingIterator(source, (entry: BytesEntry) => {
      const start = this.segmentTime(entry.key)
      if (start < timeFrom || start > timeTo || start < minLive) return undefined
      return this.#windowed(entry)
    })
  }

  all(): KeyValueIterator<Windowed<K>, V> {
    return this.fetchAll(0, MAX_TIMESTAMP)
  }

  setFlushListener(listener: CacheFlushListener<Windowed<K>, V>, sendOldValues: boolean): boolean {
    return this.setBytesFlushListener((key, newValue, oldValue, timestamp) => {
      listener({
        key: this.#windowedKey(key),
        newValue: newValue === null ? null : this.#format.deserialize(this.serdeTopic, newValue),
        oldValue: oldValue === null ? null : this.#format.deserialize(this.serdeTopic, oldValue),
        timestamp
      })
    }, sendOldValues)
  }

  #fetch(key: K, timeFrom: number, timeTo: number, reverse: boolean): WindowStoreIterator<V> {
    const keyBytes = this.keyBytes(key)
    const minLive = this.segments.minLiveTime()
    const from = Math.max(timeFrom, 0)
    const to = Math.min(timeTo, MAX_TIMESTAMP)
    const expectedLength = SEGMENT_PREFIX_BYTES + keyBytes.length + WINDOW_SUFFIX_BYTES
    const source = this.scanSegments(from, to, reverse, (segment) => ({
      from: this.#physicalKey(keyBytes, from, 0, segment),
      to: this.#physicalKey(keyBytes, to, 0xffffffff, segment),
      prefix: undefined
    }))
    return new MappingIterator(source, (entry: BytesEntry): KeyValue<number, V> | undefined => {
      // Longer keys that start with this key's bytes can fall inside the byte range; the exact length rules them out.
      if (entry.key.length !== expectedLength) return undefined
      const start = this.segmentTime(entry.key)
      if (start < minLive) return undefined
      return { key: start, value: this.#format.deserialize(this.serdeTopic, entry.value) }
    })
  }

  #windowed(entry: BytesEntry): KeyValue<Windowed<K>, V> {
    return { key: this.#windowedKey(entry.key), value: this.#format.deserialize(this.serdeTopic, entry.value) }
  }

  #windowedKey(physical: Buffer): Windowed<K> {
    const start = this.segmentTime(physical)
    return { key: this.keyOf(physical), window: { start, end: start + this.windowSizeMs } }
  }

  #physicalKey(
    keyBytes: Buffer,
    windowStart: number,
    sequence: number,
    segment = this.segments.id(windowStart)
  ): Buffer {
    const physical = Buffer.allocUnsafe(SEGMENT_PREFIX_BYTES + keyBytes.length + WINDOW_SUFFIX_BYTES)
    writeTimestamp(physical, 0, segment)
    keyBytes.copy(physical, SEGMENT_PREFIX_BYTES)
    writeTimestamp(physical, SEGMENT_PREFIX_BYTES + keyBytes.length, windowStart)
    physical.writeUInt32BE(sequence, SEGMENT_PREFIX_BYTES + keyBytes.length + 8)
    return physical
  }
}

/** Whether `physical` (a window key without duplicates) holds exactly `keyBytes` (compared, not trusted by identity). */
function sameKey(physical: Buffer, keyBytes: Buffer): boolean {
  const end = SEGMENT_PREFIX_BYTES + keyBytes.length
  return physical.length === end + WINDOW_SUFFIX_BYTES && keyBytes.compare(physical, SEGMENT_PREFIX_BYTES, end) === 0
}
