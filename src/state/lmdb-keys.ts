/**
 * LMDB rejects zero-length keys, while an empty serialized key (`''` with the string serde) is a legal Kafka key. So
 * every store key is stored behind this byte: a constant prefix keeps the order and costs a byte per key.
 */
export const KEY_PREFIX = 0

/** A store key as LMDB holds it: behind `KEY_PREFIX`. */
export function storedKey(key: Buffer): Buffer {
  const stored = Buffer.allocUnsafe(key.length + 1)
  stored[0] = KEY_PREFIX
  key.copy(stored, 1)
  return stored
}
