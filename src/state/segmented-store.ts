import type { Serde } from '../serde/index.ts'
import { hasPrefix, readTimestamp } from './bytes.ts'
import type { BytesEntry, BytesWrite } from './bytes-store.ts'
import { InvalidStoreArgumentError } from './errors.ts'
import { LayeredStore, type LayeredStoreOptions } from './layered-store.ts'
import { SEGMENT_PREFIX_BYTES, type Segments, segmentOf } from './segments.ts'

export interface SegmentedStoreOptions<K> extends LayeredStoreOptions {
  readonly keySerde: Serde<K>
  readonly segments: Segments
  /** Bytes after the serialized key in a physical key (12 for windows, 16 for sessions). */
  readonly suffixBytes: number
}

/** Bounds of one segment's scan; with `prefix`, the scan stops at the first key outside it. */
export interface SegmentScan {
  readonly from: Buffer
  readonly to: Buffer | undefined
  readonly prefix: Buffer | undefined
}

/**
 * What window and session stores share: keys laid out as `segment || key || suffix`, the time that decides a key's
 * segment stored first in the suffix, stream time observed from puts and restored records, expiry of whole segments,
 * and scans that visit the live segments one by one.
 */
export abstract class SegmentedStore<K> extends LayeredStore {
  expiredPuts = 0
  protected readonly segments: Segments
  protected readonly keySerde: Serde<K>
  protected readonly suffixBytes: number

  constructor(options: SegmentedStoreOptions<K>) {
    // Physical keys (segment || key || suffix) are built here, never the caller's Buffers.
    super({ ...options, storeMadeKeys: true })
    this.segments = options.segments
    this.keySerde = options.keySerde
    this.suffixBytes = options.suffixBytes
  }

  /** The largest time put so far (a lower bound right after a restart); -1 before the first. */
  get observedStreamTime(): number {
    return this.segments.observedStreamTime
  }

  /**
   * Advances stream time to `time` and expires what fell out of retention. Returns false (and counts the put) when
   * `time` itself is expired, as Kafka Streams drops such writes.
   */
  protected observeForPut(time: number): boolean {
    const expired = this.segments.observe(time)
    if (expired !== null) this.layer.expireBefore(expired)
    if (this.segments.isExpired(time)) {
      this.expiredPuts++
      return false
    }
    return true
  }

  /** The time that decides the segment, read from a physical key. */
  protected segmentTime(physical: Buffer): number {
    return readTimestamp(physical, physical.length - this.suffixBytes)
  }

  protected keyBytes(key: K): Buffer {
    if (key === null || key === undefined) throw new InvalidStoreArgumentError(this.name, 'keys cannot be null')
    const bytes = this.keySerde.serialize(this.serdeTopic, key)
    if (bytes === null) throw new InvalidStoreArgumentError(this.name, 'the key serde turned a key into null')
    this.checkKeySize(SEGMENT_PREFIX_BYTES + bytes.length + this.suffixBytes, bytes.length)
    return bytes
  }

  protected keyOf(physical: Buffer): K {
    const keyBytes = physical.subarray(SEGMENT_PREFIX_BYTES, physical.length - this.suffixBytes)
    return this.keySerde.deserialize(this.serdeTopic, keyBytes) as K
  }

  /** Scans the live segments overlapping [timeFrom, timeTo] in order, each within `bounds(segment)`. */
  protected *scanSegments(
    timeFrom: number,
    timeTo: number,
    reverse: boolean,
    bounds: (segment: number) => SegmentScan
  ): Generator<BytesEntry, undefined> {
    for (const segment of this.segments.overlapping(timeFrom, timeTo, reverse)) {
      const { from, to, prefix } = bounds(segment)
      const iterator = this.layer.range(from, to, reverse)
      try {
        for (let step = iterator.next(); !step.done; step = iterator.next()) {
          if (prefix !== undefined && !hasPrefix(step.value.key, prefix)) break
          yield step.value
        }
      } finally {
        iterator.return?.()
      }
    }
  }

  /** A scan of a whole segment. */
  protected wholeSegment(segment: number): SegmentScan {
    const prefix = this.segments.prefix(segment)
    return { from: prefix, to: undefined, prefix }
  }

  protected override onOpen(): void {
    const last = this.backend.range(undefined, undefined, true)
    try {
      const step = last.next()
      this.segments.recover(step.done ? null : segmentOf(step.value.key))
    } finally {
      last.return?.()
    }
  }

  protected override get readsBackendOnRestore(): boolean {
    return true
  }

  /** Restored records advance stream time too; what they push out of retention is deleted right away. */
  protected override onRestored(writes: readonly BytesWrite[]): void {
    let latest = -1
    for (const { key } of writes) latest = Math.max(latest, this.segmentTime(key))
    if (latest < 0) return
    const expired = this.segments.observe(latest)
    if (expired !== null) this.expireCommitted(expired)
  }
}
