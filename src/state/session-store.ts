import type { Serde } from '../serde/index.ts'
import { MAX_TIMESTAMP, readTimestamp, writeTimestamp } from './bytes.ts'
import type { BytesEntry } from './bytes-store.ts'
import { InvalidStoreArgumentError } from './errors.ts'
import { type KeyValue, type KeyValueIterator, MappingIterator } from './key-value-iterator.ts'
import { SegmentedStore, type SegmentedStoreOptions } from './segmented-store.ts'
import { SEGMENT_PREFIX_BYTES } from './segments.ts'
import type { CacheFlushListener, SessionStore, Windowed } from './stores.ts'
import type { ValueFormat } from './value-formats.ts'

/**
 * Physical key: segment id of the session END (8) + serialized key + end (8) + start (8). Without the prefix that is
 * Kafka Streams' SessionKeySchema (`key || end || start`) and the changelog key. Segmenting by end time expires a
 * session only once its last record is older than the retention.
 */
export const SESSION_SUFFIX_BYTES = 16

export interface LayeredSessionStoreOptions<K, AGG> extends Omit<SegmentedStoreOptions<K>, 'suffixBytes'> {
  readonly keySerde: Serde<K>
  readonly valueFormat: ValueFormat<AGG>
  readonly retentionMs: number
}

export class LayeredSessionStore<K, AGG> extends SegmentedStore<K> implements SessionStore<K, AGG> {
  readonly retentionMs: number
  readonly #format: ValueFormat<AGG>

  constructor(options: LayeredSessionStoreOptions<K, AGG>) {
    super({ ...options, suffixBytes: SESSION_SUFFIX_BYTES })
    this.#format = options.valueFormat
    this.retentionMs = options.retentionMs
  }

  put(sessionKey: Windowed<K>, aggregate: AGG | null): void {
    const { start, end } = sessionKey.window
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new InvalidStoreArgumentError(
        this.name,
        `session [${start}, ${end}] is not a valid window (0 <= start <= end)`
      )
    }
    const keyBytes = this.keyBytes(sessionKey.key)
    if (!this.observeForPut(end)) return
    const bytes = aggregate === null ? null : this.#format.serialize(this.serdeTopic, aggregate)
    const timestamp = (aggregate === null ? null : this.#format.timestampOf(aggregate)) ?? this.currentTimestamp()
    this.layer.put(this.#physicalKey(keyBytes, end, start), bytes, timestamp)
  }

  remove(sessionKey: Windowed<K>): void {
    this.put(sessionKey, null)
  }

  findSessions(
    key: K,
    earliestSessionEndTime: number,
    latestSessionStartTime: number
  ): KeyValueIterator<Windowed<K>, AGG> {
    const keyBytes = this.keyBytes(key)
    const expectedLength = SEGMENT_PREFIX_BYTES + keyBytes.length + SESSION_SUFFIX_BYTES
    const minLive = this.segments.minLiveTime()
    const earliestEnd = Math.max(earliestSessionEndTime, 0)
    // A session ending after `latestSessionStartTime` may still start before it, so every later segment counts.
    const source = this.scanSegments(earliestEnd, MAX_TIMESTAMP, false, (segment) => ({
      from: this.#physicalKey(keyBytes, earliestEnd, 0, segment),
      to: this.#physicalKey(keyBytes, MAX_TIMESTAMP, MAX_TIMESTAMP, segment),
      prefix: undefined
    }))
    return new MappingIterator(source, (entry: BytesEntry) => {
      if (entry.key.length !== expectedLength) return undefined
      const end = this.segmentTime(entry.key)
      const start = readTimestamp(entry.key, entry.key.length - 8)
      if (start > latestSessionStartTime || end < earliestEnd || end < minLive) return undefined
      return this.#session(entry)
    })
  }

  fetchSession(key: K, sessionStart: number, sessionEnd: number): AGG | null {
    if (sessionEnd < this.segments.minLiveTime()) return null
    const bytes = this.layer.get(this.#physicalKey(this.keyBytes(key), sessionEnd, sessionStart))
    return bytes === undefined ? null : this.#format.deserialize(this.serdeTopic, bytes)
  }

  fetch(key: K): KeyValueIterator<Windowed<K>, AGG> {
    return this.findSessions(key, 0, MAX_TIMESTAMP)
  }

  all(): KeyValueIterator<Windowed<K>, AGG> {
    const minLive = this.segments.minLiveTime()
    const source = this.scanSegments(0, MAX_TIMESTAMP, false, (segment) => this.wholeSegment(segment))
    return new MappingIterator(source, (entry: BytesEntry) =>
      this.segmentTime(entry.key) < minLive ? undefined : this.#session(entry)
    )
  }

  setFlushListener(listener: CacheFlushListener<Windowed<K>, AGG>, sendOldValues: boolean): boolean {
    return this.setBytesFlushListener((key, newValue, oldValue, timestamp) => {
      listener({
        key: this.#sessionKey(key),
        newValue: newValue === null ? null : this.#format.deserialize(this.serdeTopic, newValue),
        oldValue: oldValue === null ? null : this.#format.deserialize(this.serdeTopic, oldValue),
        timestamp
      })
    }, sendOldValues)
  }

  #session(entry: BytesEntry): KeyValue<Windowed<K>, AGG> {
    return { key: this.#sessionKey(entry.key), value: this.#format.deserialize(this.serdeTopic, entry.value) }
  }

  #sessionKey(physical: Buffer): Windowed<K> {
    const end = this.segmentTime(physical)
    const start = readTimestamp(physical, physical.length - 8)
    return { key: this.keyOf(physical), window: { start, end } }
  }

  #physicalKey(keyBytes: Buffer, end: number, start: number, segment = this.segments.id(end)): Buffer {
    const physical = Buffer.allocUnsafe(SEGMENT_PREFIX_BYTES + keyBytes.length + SESSION_SUFFIX_BYTES)
    writeTimestamp(physical, 0, segment)
    keyBytes.copy(physical, SEGMENT_PREFIX_BYTES)
    writeTimestamp(physical, SEGMENT_PREFIX_BYTES + keyBytes.length, end)
    writeTimestamp(physical, SEGMENT_PREFIX_BYTES + keyBytes.length + 8, start)
    return physical
  }
}
