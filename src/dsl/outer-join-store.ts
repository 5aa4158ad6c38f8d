import type { Serde } from '../serde/index.ts'
import type { KeyValueStore } from '../state/index.ts'

/**
 * The shared store of a left or outer stream-stream join (Kafka Streams' "outer shared join store", KAFKA-10847):
 * unmatched records wait here until their join window closes, then are emitted with null for the other side; a
 * match deletes them. Both join processors of one join write and read it.
 *
 * Key bytes as Kafka Streams' TimestampedKeyAndJoinSide: timestamp (8 bytes, big-endian), side (1: left, 0: right),
 * serialized key; so iterating the store visits the oldest records first. A value is the list of the unmatched
 * records of that key, side and timestamp (duplicates are kept, as Kafka Streams' ListValueStore does): each entry
 * is its length (4 bytes) then its serialized value.
 */
export interface OuterJoinEntry<K> {
  readonly storeKey: Buffer
  readonly timestamp: number
  readonly leftSide: boolean
  readonly key: K
  readonly values: readonly Buffer[]
}

export class OuterJoinStore<K> {
  readonly #store: KeyValueStore<Buffer, Buffer>
  readonly #keySerde: Serde<K>
  readonly #topic: string

  constructor(store: KeyValueStore<Buffer, Buffer>, keySerde: Serde<K>, topic: string) {
    this.#store = store
    this.#keySerde = keySerde
    this.#topic = topic
  }

  storeKey(key: K, timestamp: number, leftSide: boolean): Buffer {
    const keyBytes = this.#keySerde.serialize(this.#topic, key) ?? Buffer.alloc(0)
    const out = Buffer.allocUnsafe(9 + keyBytes.length)
    out.writeBigInt64BE(BigInt(timestamp), 0)
    out.writeUInt8(leftSide ? 1 : 0, 8)
    keyBytes.copy(out, 9)
    return out
  }

  /** Appends an unmatched record's serialized value. */
  add(key: K, timestamp: number, leftSide: boolean, value: Buffer): void {
    const storeKey = this.storeKey(key, timestamp, leftSide)
    const existing = this.#store.get(storeKey)
    const length = Buffer.allocUnsafe(4)
    length.writeUInt32BE(value.length, 0)
    this.#store.put(storeKey, Buffer.concat([...(existing === null ? [] : [existing]), length, value]))
  }

  /** A match: the other side's unmatched records of that key and time no longer wait (deleted only if present). */
  matched(key: K, timestamp: number, leftSide: boolean): void {
    const storeKey = this.storeKey(key, timestamp, leftSide)
    if (this.#store.get(storeKey) !== null) this.#store.put(storeKey, null)
  }

  delete(storeKey: Buffer): void {
    this.#store.put(storeKey, null)
  }

  /** Every waiting entry, oldest first (then right before left, then by key bytes). Close it if not exhausted. */
  *entries(): Generator<OuterJoinEntry<K>, void, undefined> {
    const iterator = this.#store.all()
    try {
      for (const { key: storeKey, value } of iterator) {
        const values: Buffer[] = []
        for (let offset = 0; offset + 4 <= value.length; ) {
          const length = value.readUInt32BE(offset)
          values.push(value.subarray(offset + 4, offset + 4 + length))
          offset += 4 + length
        }
        yield {
          storeKey,
          timestamp: Number(storeKey.readBigInt64BE(0)),
          leftSide: storeKey.readUInt8(8) === 1,
          key: this.#keySerde.deserialize(this.#topic, storeKey.subarray(9)) as K,
          values
        }
      }
    } finally {
      iterator.close()
    }
  }
}
