/**
 * What both suppress processors (suppress-processor.ts: until the window closes; time-limit-suppress-processor.ts:
 * until a time limit) do with their buffer, a key-value store of bytes whose keys start with a big-endian time, so
 * one scan in byte order visits entries in the order they become due: count it, evict what is due, and fail when it
 * is over the capacity `Suppressed` gave it.
 */
import { StreamlaneError } from '../errors.ts'
import type { KeyValueStore } from '../state/index.ts'

export interface BufferEntry {
  key: Buffer
  value: Buffer
}

export interface BufferSize {
  records: number
  bytes: number
}

/** A bounded buffer (`Suppressed.untilWindowCloses({ maxRecords, maxBytes })`): full means the task stops. */
export interface SuppressBufferLimits {
  readonly maxRecords?: number
  readonly maxBytes?: number
}

/** Records and bytes of the buffer's leading entries whose key `counts` (all of them by default), in one scan. */
export function bufferSize(buffer: KeyValueStore<Buffer, Buffer>, counts: (key: Buffer) => boolean = () => true) {
  const size: BufferSize = { records: 0, bytes: 0 }
  const iterator = buffer.all()
  try {
    for (const { key, value } of iterator) {
      if (!counts(key)) break
      size.records++
      size.bytes += key.length + value.length
    }
  } finally {
    iterator.close()
  }
  return size
}

/**
 * The entries at the front of the buffer, in key byte order, up to the first one that is not `due` (copies: the
 * caller deletes them as it forwards them).
 */
export function dueEntries(
  buffer: KeyValueStore<Buffer, Buffer>,
  due: (key: Buffer, value: Buffer) => boolean
): BufferEntry[] {
  const entries: BufferEntry[] = []
  const iterator = buffer.all()
  try {
    for (const entry of iterator) {
      if (!due(entry.key, entry.value)) break
      entries.push({ key: Buffer.from(entry.key), value: Buffer.from(entry.value) })
    }
  } finally {
    iterator.close()
  }
  return entries
}

export function isOverCapacity(size: BufferSize, limits: SuppressBufferLimits): boolean {
  const { maxRecords = Number.POSITIVE_INFINITY, maxBytes = Number.POSITIVE_INFINITY } = limits
  return size.records > maxRecords || size.bytes > maxBytes
}

/** A suppress buffer went over its `maxRecords` / `maxBytes` (Kafka Streams' `shutDownWhenFull`). */
export class SuppressBufferFullError extends StreamlaneError {
  constructor(bufferName: string, size: BufferSize, limits: SuppressBufferLimits) {
    super(
      'STREAMLANE_SUPPRESS_BUFFER_FULL',
      `suppress buffer ${bufferName} is over its capacity: it holds ${size.records} records and ${size.bytes} bytes, ` +
        `but the limit is ${limits.maxRecords ?? 'unbounded'} records and ${limits.maxBytes ?? 'unbounded'} bytes; ` +
        'raise maxRecords / maxBytes in Suppressed.untilWindowCloses, or shorten the windows or their grace period'
    )
  }
}

/** A time as the buffer keys and values start with it: 8 bytes, big-endian. */
export function time(ms: number): Buffer {
  const bytes = Buffer.allocUnsafe(8)
  bytes.writeUInt32BE(Math.floor(ms / 2 ** 32), 0)
  bytes.writeUInt32BE(ms % 2 ** 32, 4)
  return bytes
}

export function readTime(bytes: Buffer, offset: number): number {
  return bytes.readUInt32BE(offset) * 2 ** 32 + bytes.readUInt32BE(offset + 4)
}
