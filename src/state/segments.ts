import { readTimestamp, writeTimestamp } from './bytes.ts'
import type { ChangelogCodec } from './bytes-store.ts'

/**
 * Time segments of window and session stores (Kafka Streams' Segments, in one keyspace). A physical key starts
 * with its segment id, 8 bytes big-endian, so entries sort by segment first, and expiry deletes whole leading
 * segments (everything below the first live segment's prefix) in one forward scan, without a separate time index.
 * A per-key time-range fetch does one range scan per live segment it overlaps, which with the default interval
 * (half the retention, at least a minute) is two or three.
 */
export const SEGMENT_PREFIX_BYTES = 8

/** Kafka Streams' default: half the retention, at least one minute. */
export function defaultSegmentInterval(retentionMs: number): number {
  return Math.max(Math.floor(retentionMs / 2), 60_000)
}

export class Segments {
  readonly intervalMs: number
  readonly retentionMs: number
  /** The largest time put so far (window start, or session end); -1 before the first. */
  observedStreamTime = -1
  /** Segments below this id have been expired. */
  #expiredBelow = 0

  constructor(intervalMs: number, retentionMs: number) {
    this.intervalMs = intervalMs
    this.retentionMs = retentionMs
  }

  id(timestamp: number): number {
    return Math.floor(timestamp / this.intervalMs)
  }

  prefix(segment: number): Buffer {
    const bytes = Buffer.allocUnsafe(SEGMENT_PREFIX_BYTES)
    writeTimestamp(bytes, 0, segment)
    return bytes
  }

  /** The oldest time still retained: anything older is invisible to reads and dropped on write. */
  minLiveTime(): number {
    return Math.max(0, this.observedStreamTime - this.retentionMs + 1)
  }

  isExpired(timestamp: number): boolean {
    return timestamp <= this.observedStreamTime - this.retentionMs
  }

  /**
   * Advances observed stream time. Returns the prefix below which everything is now expired when the first live
   * segment moved, or `null` when nothing new expired.
   */
  observe(timestamp: number): Buffer | null {
    if (timestamp > this.observedStreamTime) this.observedStreamTime = timestamp
    const firstLive = this.id(this.minLiveTime())
    if (firstLive <= this.#expiredBelow) return null
    this.#expiredBelow = firstLive
    return this.prefix(firstLive)
  }

  /** Recovers observed stream time from the newest segment on disk (its start: a lower bound, so it under-expires). */
  recover(lastSegment: number | null): void {
    this.observedStreamTime = lastSegment === null ? -1 : lastSegment * this.intervalMs
    this.#expiredBelow = 0
  }

  /** Live segment ids overlapping [from, to], oldest first (or newest first). */
  *overlapping(from: number, to: number, reverse: boolean): Generator<number, undefined> {
    if (this.observedStreamTime < 0) return
    const first = this.id(Math.max(from, this.minLiveTime()))
    const last = this.id(Math.min(to, this.observedStreamTime))
    if (reverse) for (let s = last; s >= first; s--) yield s
    else for (let s = first; s <= last; s++) yield s
  }
}

/**
 * Changelog keys of segmented stores are the physical key without its segment prefix (Kafka Streams' WindowKeySchema
 * and SessionKeySchema layouts); restoring recomputes the segment from the timestamp at `timeOffsetFromEnd`.
 */
export function segmentedKeyCodec(
  segments: Segments,
  timeOffsetFromEnd: number
): Pick<ChangelogCodec, 'toChangelogKey' | 'fromChangelogKey'> {
  return {
    toChangelogKey: (physical) => physical.subarray(SEGMENT_PREFIX_BYTES),
    fromChangelogKey(changelogKey) {
      const time = readTimestamp(changelogKey, changelogKey.length - timeOffsetFromEnd)
      return Buffer.concat([segments.prefix(segments.id(time)), changelogKey])
    }
  }
}

/** Identity values, for segmented stores whose values are plain. */
export const plainValueCodec: Pick<ChangelogCodec, 'toChangelogValue' | 'fromChangelogValue'> = {
  toChangelogValue: (value) => ({ value, timestamp: null }),
  fromChangelogValue: (value) => value
}

/** The segment id of a physical key. */
export function segmentOf(physicalKey: Buffer): number {
  return readTimestamp(physicalKey, 0)
}
