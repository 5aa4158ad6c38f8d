import type { Serde } from './serde.ts'
import { DeserializationError, SerializationError } from './serde-errors.ts'

/**
 * Serdes for the keys of windowed aggregations, byte-compatible with Kafka Streams' `TimeWindowedSerde` and
 * `SessionWindowedSerde`, so windowed results written to a topic can be read by Java applications and vice versa.
 *
 *   time windows:     inner key bytes | window start (8 bytes, big-endian)          the end is start + window size
 *   session windows:  inner key bytes | window end (8 bytes) | window start (8 bytes)
 */

/** A key and its window; the same shape as the state layer's `Windowed<K>`. */
export interface WindowedKey<K> {
  readonly key: K
  readonly window: { readonly start: number; readonly end: number }
}

const TIMESTAMP_BYTES = 8
const TWO_32 = 2 ** 32

function writeTime(buffer: Buffer, offset: number, value: number): void {
  buffer.writeUInt32BE(Math.floor(value / TWO_32), offset)
  buffer.writeUInt32BE(value % TWO_32, offset + 4)
}

function readTime(buffer: Buffer, offset: number): number {
  return buffer.readUInt32BE(offset) * TWO_32 + buffer.readUInt32BE(offset + 4)
}

function checkTime(topic: string, what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SerializationError({ topic, reason: `window ${what} must be an integer >= 0, got ${String(value)}` })
  }
}

function serializeInner<K>(inner: Serde<K>, topic: string, value: WindowedKey<K>): Buffer {
  if (typeof value !== 'object' || value === null || typeof value.window !== 'object' || value.window === null) {
    throw new SerializationError({ topic, reason: 'expected a windowed key { key, window: { start, end } }' })
  }
  const bytes = inner.serialize(topic, value.key)
  if (bytes === null) throw new SerializationError({ topic, reason: 'the inner key of a windowed key cannot be null' })
  return bytes
}

/** Time-windowed keys (tumbling, hopping and sliding windows); `windowSizeMs` gives the end back on read. */
export function timeWindowedSerde<K>(inner: Serde<K>, windowSizeMs: number): Serde<WindowedKey<K>> {
  if (!Number.isSafeInteger(windowSizeMs) || windowSizeMs <= 0) {
    throw new RangeError(`a time-windowed serde needs the window size in ms (> 0), got ${windowSizeMs}`)
  }
  return {
    serialize(topic, value) {
      if (value === null) return null
      const keyBytes = serializeInner(inner, topic, value)
      checkTime(topic, 'start', value.window.start)
      const out = Buffer.allocUnsafe(keyBytes.length + TIMESTAMP_BYTES)
      keyBytes.copy(out, 0)
      writeTime(out, keyBytes.length, value.window.start)
      return out
    },
    deserialize(topic, data) {
      if (data === null) return null
      if (data.length < TIMESTAMP_BYTES) {
        throw new DeserializationError({
          topic,
          reason: `a time-windowed key needs at least 8 bytes, got ${data.length}`
        })
      }
      const split = data.length - TIMESTAMP_BYTES
      const start = readTime(data, split)
      const key = inner.deserialize(topic, data.subarray(0, split)) as K
      return { key, window: { start, end: Math.min(start + windowSizeMs, Number.MAX_SAFE_INTEGER) } }
    }
  }
}

/** Session-windowed keys: both ends are stored, since sessions have no fixed size. */
export function sessionWindowedSerde<K>(inner: Serde<K>): Serde<WindowedKey<K>> {
  return {
    serialize(topic, value) {
      if (value === null) return null
      const keyBytes = serializeInner(inner, topic, value)
      checkTime(topic, 'start', value.window.start)
      checkTime(topic, 'end', value.window.end)
      const out = Buffer.allocUnsafe(keyBytes.length + 2 * TIMESTAMP_BYTES)
      keyBytes.copy(out, 0)
      writeTime(out, keyBytes.length, value.window.end)
      writeTime(out, keyBytes.length + TIMESTAMP_BYTES, value.window.start)
      return out
    },
    deserialize(topic, data) {
      if (data === null) return null
      if (data.length < 2 * TIMESTAMP_BYTES) {
        throw new DeserializationError({
          topic,
          reason: `a session-windowed key needs at least 16 bytes, got ${data.length}`
        })
      }
      const split = data.length - 2 * TIMESTAMP_BYTES
      const end = readTime(data, split)
      const start = readTime(data, split + TIMESTAMP_BYTES)
      return { key: inner.deserialize(topic, data.subarray(0, split)) as K, window: { start, end } }
    }
  }
}
