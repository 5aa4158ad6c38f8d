/**
 * Byte helpers shared by the stores.
 *
 * In-memory structures key their maps by the key bytes as a latin1 string: each byte becomes one UTF-16 code unit
 * in 0..255, so JavaScript's string comparison (`<`, code unit by code unit, shorter first on a common prefix) is
 * exactly the unsigned lexicographic byte order LMDB and RocksDB use, and `Map` lookups hash the bytes natively.
 * V8 keeps such strings one byte per character, so they cost about what the bytes do.
 */

export function keyString(key: Buffer): string {
  return key.toString('latin1')
}

export function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'latin1')
}

const TWO_32 = 2 ** 32

/** Writes a non-negative safe integer as 8 bytes big-endian, so byte order is numeric order. */
export function writeTimestamp(buffer: Buffer, offset: number, value: number): void {
  buffer.writeUInt32BE(Math.floor(value / TWO_32), offset)
  buffer.writeUInt32BE(value % TWO_32, offset + 4)
}

export function readTimestamp(buffer: Buffer, offset: number): number {
  return buffer.readUInt32BE(offset) * TWO_32 + buffer.readUInt32BE(offset + 4)
}

/** The largest timestamp a window or session key can hold (and the open upper bound of a time range). */
export const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER

/** Whether `key` starts with `prefix`. */
export function hasPrefix(key: Buffer, prefix: Buffer): boolean {
  return key.length >= prefix.length && key.compare(prefix, 0, prefix.length, 0, prefix.length) === 0
}
