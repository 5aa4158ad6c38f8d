import type { Serde } from './serde.ts'
import { DeserializationError, SerializationError } from './serde-errors.ts'

/**
 * The fixed-format serdes, byte-compatible with Kafka's own (`StringSerializer`, `IntegerSerializer`,
 * `LongSerializer`, `DoubleSerializer`) so Streamlane apps share topics with Java and kcat users.
 */

const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** Bytes as they are. */
export function bytesSerde(): Serde<Buffer> {
  return {
    serialize(topic, value) {
      if (value === null) return null
      if (!Buffer.isBuffer(value))
        throw new SerializationError({ topic, reason: `expected a Buffer, got ${kind(value)}` })
      return value
    },
    deserialize(_topic, data) {
      return data
    }
  }
}

/** UTF-8 text. */
export function stringSerde(): Serde<string> {
  return {
    serialize(topic, value) {
      if (value === null) return null
      if (typeof value !== 'string')
        throw new SerializationError({ topic, reason: `expected a string, got ${kind(value)}` })
      return Buffer.from(value, 'utf8')
    },
    deserialize(_topic, data) {
      return data === null ? null : data.toString('utf8')
    }
  }
}

/** A 32-bit signed integer, 4 bytes big-endian. */
export function int32Serde(): Serde<number> {
  return {
    serialize(topic, value) {
      if (value === null) return null
      if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
        throw new SerializationError({ topic, reason: `expected an integer in [-2^31, 2^31-1], got ${String(value)}` })
      }
      const buffer = Buffer.allocUnsafe(4)
      buffer.writeInt32BE(value)
      return buffer
    },
    deserialize(topic, data) {
      if (data === null) return null
      expectSize(topic, data, 4, 'int32')
      return data.readInt32BE(0)
    }
  }
}

/** A 64-bit signed integer as a bigint, 8 bytes big-endian: a JavaScript number cannot hold every long exactly. */
export function longSerde(): Serde<bigint> {
  return {
    serialize(topic, value) {
      if (value === null) return null
      if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX) {
        throw new SerializationError({
          topic,
          reason: `expected a bigint in [-2^63, 2^63-1], got ${describeValue(value)}`
        })
      }
      const buffer = Buffer.allocUnsafe(8)
      buffer.writeBigInt64BE(value)
      return buffer
    },
    deserialize(topic, data) {
      if (data === null) return null
      expectSize(topic, data, 8, 'long')
      return data.readBigInt64BE(0)
    }
  }
}

/** An IEEE 754 double, 8 bytes big-endian (NaN, infinities and -0 round-trip). */
export function doubleSerde(): Serde<number> {
  return {
    serialize(topic, value) {
      if (value === null) return null
      if (typeof value !== 'number')
        throw new SerializationError({ topic, reason: `expected a number, got ${kind(value)}` })
      const buffer = Buffer.allocUnsafe(8)
      buffer.writeDoubleBE(value)
      return buffer
    },
    deserialize(topic, data) {
      if (data === null) return null
      expectSize(topic, data, 8, 'double')
      return data.readDoubleBE(0)
    }
  }
}

function expectSize(topic: string, data: Buffer, size: number, type: string): void {
  if (data.length !== size) {
    throw new DeserializationError({ topic, reason: `${type} data must be exactly ${size} bytes, got ${data.length}` })
  }
}

export function kind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (Buffer.isBuffer(value)) return 'a Buffer'
  return `a ${typeof value}`
}

function describeValue(value: unknown): string {
  return typeof value === 'bigint' ? `${value}n` : kind(value)
}
