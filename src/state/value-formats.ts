import type { Serde } from '../serde/index.ts'
import { readTimestamp, writeTimestamp } from './bytes.ts'
import type { ChangelogCodec } from './bytes-store.ts'
import type { ValueAndTimestamp } from './stores.ts'

/**
 * How a typed store turns values into stored bytes. Plain values are what their serde makes; timestamped values are
 * the timestamp (8 bytes big-endian) followed by the serde's bytes, as in Kafka Streams' ValueAndTimestampSerializer.
 */
export interface ValueFormat<V> {
  /** `null` when the serde maps the value to no bytes, which stores treat as a delete. */
  serialize(topic: string, value: V): Buffer | null
  deserialize(topic: string, bytes: Buffer): V
  /** The timestamp the value carries, which its changelog record and cache entry then use. */
  timestampOf(value: V): number | null
}

export function plainFormat<V>(serde: Serde<V>): ValueFormat<V> {
  return {
    serialize: (topic, value) => serde.serialize(topic, value),
    deserialize: (topic, bytes) => serde.deserialize(topic, bytes) as V,
    timestampOf: () => null
  }
}

const TIMESTAMP_BYTES = 8

export function timestampedFormat<V>(serde: Serde<V>): ValueFormat<ValueAndTimestamp<V>> {
  return {
    serialize(topic, { value, timestamp }) {
      const bytes = serde.serialize(topic, value)
      if (bytes === null) return null
      const stored = Buffer.allocUnsafe(TIMESTAMP_BYTES + bytes.length)
      writeTimestamp(stored, 0, Math.max(0, timestamp))
      bytes.copy(stored, TIMESTAMP_BYTES)
      return stored
    },
    deserialize: (topic, bytes) => ({
      timestamp: readTimestamp(bytes, 0),
      value: serde.deserialize(topic, bytes.subarray(TIMESTAMP_BYTES)) as V
    }),
    timestampOf: (value) => value.timestamp
  }
}

/**
 * The changelog of a timestamped store holds the plain value with the timestamp as the record's timestamp, so a
 * table's source topic can double as its changelog and people reading the topic see their own values.
 */
export function timestampedValueCodec(
  keys: Pick<ChangelogCodec, 'toChangelogKey' | 'fromChangelogKey'>
): ChangelogCodec {
  return {
    ...keys,
    toChangelogValue: (stored) => ({ value: stored.subarray(TIMESTAMP_BYTES), timestamp: readTimestamp(stored, 0) }),
    fromChangelogValue(value, timestamp) {
      const stored = Buffer.allocUnsafe(TIMESTAMP_BYTES + value.length)
      writeTimestamp(stored, 0, Math.max(0, timestamp))
      value.copy(stored, TIMESTAMP_BYTES)
      return stored
    }
  }
}

/** A serde for `ValueAndTimestamp` in the stored layout, for DSL code that moves such values between stores. */
export function valueAndTimestampSerde<V>(serde: Serde<V>): Serde<ValueAndTimestamp<V>> {
  const format = timestampedFormat(serde)
  return {
    serialize: (topic, value) => (value === null ? null : format.serialize(topic, value)),
    deserialize: (topic, data) => (data === null ? null : format.deserialize(topic, data))
  }
}
