import { createHash } from 'node:crypto'
import type { Serde } from '../serde/index.ts'
import { DeserializationError, SerializationError } from '../serde/index.ts'

/**
 * The messages of a foreign-key table join (KIP-213) and their bytes on the subscription and response topics.
 *
 * A left-table update sends a subscription, keyed by the foreign key, to the right table's partition; the right
 * side keeps it in its subscription store and answers with the right value, keyed by the left key, on the left
 * table's partition. Each message carries a hash of the left value it was made for, so the left side drops answers
 * to values it no longer holds (the foreign key may have changed meanwhile).
 */

/** What the right side does with a subscription (Kafka Streams' `SubscriptionWrapper.Instruction`). */
export type SubscriptionInstruction =
  /** Remove the subscription; answer nothing (the old foreign key of a left value whose key changed). */
  | 'delete-no-propagate'
  /** Remove the subscription; answer with no right value (the left value was deleted). */
  | 'delete-and-propagate'
  /** Subscribe; answer with the right value, or with none when there is none (a previous result may need a delete). */
  | 'propagate-null-if-no-value'
  /** Subscribe; answer only when there is a right value (an inner join's new left value). */
  | 'propagate-only-if-value'

const INSTRUCTIONS: readonly SubscriptionInstruction[] = [
  'delete-no-propagate',
  'delete-and-propagate',
  'propagate-null-if-no-value',
  'propagate-only-if-value'
]

export interface Subscription<K> {
  /** Hash of the left value the subscription was made for; null for a deleted left value. */
  readonly hash: Buffer | null
  readonly instruction: SubscriptionInstruction
  readonly primaryKey: K
  /** Partition of the left table the answer must go to. */
  readonly primaryPartition: number
}

export interface SubscriptionResponse<VO> {
  readonly hash: Buffer | null
  readonly foreignValue: VO | null
  readonly primaryPartition: number
}

/** The subscription store's key: the foreign key first, so that a prefix scan finds every subscriber of one. */
export interface CombinedKey<KO, K> {
  readonly foreignKey: KO
  readonly primaryKey: K
}

const VERSION = 0
const HASH_BYTES = 16

/** A 128-bit hash of a left value's bytes (Kafka Streams uses Murmur3; only equality matters). */
export function valueHash(bytes: Buffer | null): Buffer | null {
  if (bytes === null) return null
  return createHash('sha256').update(bytes).digest().subarray(0, HASH_BYTES)
}

export function sameHash(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b)
}

/** Bytes: version, instruction, hash flag (+16 bytes), primary partition (4 bytes), primary key. */
export function subscriptionSerde<K>(primaryKeySerde: Serde<K>): Serde<Subscription<K>> {
  return {
    serialize(topic, s, headers) {
      if (s === null) return null
      const key = primaryKeySerde.serialize(topic, s.primaryKey, headers)
      if (key === null)
        throw new SerializationError({ topic, reason: 'the primary key of a subscription serializes to null' })
      const head = Buffer.alloc(3 + (s.hash === null ? 0 : HASH_BYTES) + 4)
      head.writeUInt8(VERSION, 0)
      head.writeUInt8(INSTRUCTIONS.indexOf(s.instruction), 1)
      head.writeUInt8(s.hash === null ? 0 : 1, 2)
      if (s.hash !== null) s.hash.copy(head, 3)
      head.writeInt32BE(s.primaryPartition, head.length - 4)
      return Buffer.concat([head, key])
    },
    deserialize(topic, data, headers) {
      if (data === null) return null
      const hashed = checkHead(topic, data, 1) === 1
      const instruction = INSTRUCTIONS[data.readUInt8(1)]
      if (instruction === undefined) {
        throw new DeserializationError({ topic, reason: `unknown foreign-key subscription instruction ${data[1]}` })
      }
      const hashEnd = 3 + (hashed ? HASH_BYTES : 0)
      return {
        hash: hashed ? Buffer.from(data.subarray(3, hashEnd)) : null,
        instruction,
        primaryPartition: data.readInt32BE(hashEnd),
        primaryKey: primaryKeySerde.deserialize(topic, data.subarray(hashEnd + 4), headers) as K
      }
    }
  }
}

/** Bytes: version, hash flag (+16 bytes), primary partition (4 bytes), value flag, foreign value. */
export function subscriptionResponseSerde<VO>(foreignValueSerde: Serde<VO>): Serde<SubscriptionResponse<VO>> {
  return {
    serialize(topic, r, headers) {
      if (r === null) return null
      const value = r.foreignValue === null ? null : foreignValueSerde.serialize(topic, r.foreignValue, headers)
      const head = Buffer.alloc(2 + (r.hash === null ? 0 : HASH_BYTES) + 5)
      head.writeUInt8(VERSION, 0)
      head.writeUInt8(r.hash === null ? 0 : 1, 1)
      if (r.hash !== null) r.hash.copy(head, 2)
      head.writeInt32BE(r.primaryPartition, head.length - 5)
      head.writeUInt8(value === null ? 0 : 1, head.length - 1)
      return value === null ? head : Buffer.concat([head, value])
    },
    deserialize(topic, data, headers) {
      if (data === null) return null
      const hashed = checkHead(topic, data, 0) === 1
      const hashEnd = 2 + (hashed ? HASH_BYTES : 0)
      if (data.length < hashEnd + 5) throw truncated(topic)
      const hasValue = data.readUInt8(hashEnd + 4) === 1
      return {
        hash: hashed ? Buffer.from(data.subarray(2, hashEnd)) : null,
        primaryPartition: data.readInt32BE(hashEnd),
        foreignValue: hasValue
          ? (foreignValueSerde.deserialize(topic, data.subarray(hashEnd + 5), headers) as VO)
          : null
      }
    }
  }
}

/** Checks the version byte and the length up to the primary partition; returns the hash flag (at `1 + extraBefore`). */
function checkHead(topic: string, data: Buffer, extraBefore: number): number {
  if (data.length < 2 + extraBefore) throw truncated(topic)
  const version = data.readUInt8(0)
  if (version !== VERSION) {
    throw new DeserializationError({ topic, reason: `foreign-key join message of unknown version ${version}` })
  }
  const flag = data.readUInt8(1 + extraBefore)
  if (data.length < 2 + extraBefore + (flag === 1 ? HASH_BYTES : 0) + 4) throw truncated(topic)
  return flag
}

function truncated(topic: string): DeserializationError {
  return new DeserializationError({ topic, reason: 'a foreign-key join message is truncated' })
}

/** Bytes: foreign key length (4 bytes), foreign key, primary key (Kafka Streams' CombinedKeySchema layout). */
export function combinedKeySerde<KO, K>(
  foreignKeySerde: Serde<KO>,
  primaryKeySerde: Serde<K>
): Serde<CombinedKey<KO, K>> {
  const prefix = foreignKeyPrefixSerde(foreignKeySerde)
  return {
    serialize(topic, key, headers) {
      if (key === null) return null
      const head = prefix.serialize(topic, key.foreignKey, headers)!
      const primary = primaryKeySerde.serialize(topic, key.primaryKey, headers)
      return Buffer.concat([head, primary ?? Buffer.alloc(0)])
    },
    deserialize(topic, data, headers) {
      if (data === null) return null
      if (data.length < 4) throw truncated(topic)
      const length = data.readUInt32BE(0)
      return {
        foreignKey: foreignKeySerde.deserialize(topic, data.subarray(4, 4 + length), headers) as KO,
        primaryKey: primaryKeySerde.deserialize(topic, data.subarray(4 + length), headers) as K
      }
    }
  }
}

/** The combined keys' prefix for one foreign key, for the subscription store's prefix scan. */
export function foreignKeyPrefixSerde<KO>(foreignKeySerde: Serde<KO>): Serde<KO> {
  return {
    serialize(topic, foreignKey, headers) {
      const bytes = foreignKeySerde.serialize(topic, foreignKey, headers)
      if (bytes === null) throw new SerializationError({ topic, reason: 'a foreign key serializes to null' })
      const length = Buffer.alloc(4)
      length.writeUInt32BE(bytes.length, 0)
      return Buffer.concat([length, bytes])
    },
    deserialize: (topic) => {
      throw new DeserializationError({ topic, reason: 'a foreign-key prefix is never read back' })
    }
  }
}
