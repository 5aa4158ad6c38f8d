import type { Serde } from '../serde/index.ts'
import { DeserializationError } from '../serde/index.ts'

/**
 * What a KTable node forwards: a key's new value and the value it replaces (Kafka Streams' `Change<V>`). `null` new
 * value: the key was deleted; `null` old value: the key is new. Downstream table operations compute on both, so a
 * filter can retract a key that stops matching and a re-grouping can subtract a value from its old group.
 */
export interface Change<V> {
  readonly newValue: V | null
  readonly oldValue: V | null
}

const HAS_NEW = 1
const HAS_OLD = 2

/**
 * A `Change` as bytes, for the repartition topic of `KTable.groupBy`:
 * one flag byte (1: new present, 2: old present), then, when both are present, the new value's length (4 bytes
 * big-endian), the new value and the old value; otherwise the one value present.
 */
export function changeSerde<V>(inner: Serde<V>): Serde<Change<V>> {
  return {
    serialize(topic, change, headers) {
      if (change === null) return null
      const newBytes = change.newValue === null ? null : inner.serialize(topic, change.newValue, headers)
      const oldBytes = change.oldValue === null ? null : inner.serialize(topic, change.oldValue, headers)
      const flags = (newBytes === null ? 0 : HAS_NEW) | (oldBytes === null ? 0 : HAS_OLD)
      if (newBytes !== null && oldBytes !== null) {
        const out = Buffer.allocUnsafe(5 + newBytes.length + oldBytes.length)
        out.writeUInt8(flags, 0)
        out.writeUInt32BE(newBytes.length, 1)
        newBytes.copy(out, 5)
        oldBytes.copy(out, 5 + newBytes.length)
        return out
      }
      const one = newBytes ?? oldBytes
      return Buffer.concat([Buffer.from([flags]), one ?? Buffer.alloc(0)])
    },
    deserialize(topic, data, headers) {
      if (data === null) return null
      if (data.length < 1) throw new DeserializationError({ topic, reason: 'a table change needs a flag byte' })
      const flags = data.readUInt8(0)
      const read = (bytes: Buffer): V => inner.deserialize(topic, bytes, headers) as V
      if ((flags & HAS_NEW) !== 0 && (flags & HAS_OLD) !== 0) {
        if (data.length < 5) throw new DeserializationError({ topic, reason: 'a table change is truncated' })
        const length = data.readUInt32BE(1)
        if (data.length < 5 + length) throw new DeserializationError({ topic, reason: 'a table change is truncated' })
        return { newValue: read(data.subarray(5, 5 + length)), oldValue: read(data.subarray(5 + length)) }
      }
      if (flags > (HAS_NEW | HAS_OLD)) {
        throw new DeserializationError({ topic, reason: `unknown table change flags ${flags}` })
      }
      const rest = data.subarray(1)
      return {
        newValue: (flags & HAS_NEW) !== 0 ? read(rest) : null,
        oldValue: (flags & HAS_OLD) !== 0 ? read(rest) : null
      }
    }
  }
}
