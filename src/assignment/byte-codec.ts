import { UserDataCorruptError, UserDataEncodeError, type UserDataKind } from './errors.ts'

/*
 * Primitive encodings shared by the userData layouts. Integers are LEB128 varints (Protocol Buffers style) because
 * task ids, counts and most lags are small, and assignment userData is sent to every member in one SyncGroup
 * response (bounded by the broker's message size), so it must stay compact even for large groups.
 *
 *   uvarint  unsigned, 7 bits per byte, low bits first, high bit = more bytes follow (at most 2^53 - 1 here)
 *   varlong  signed 64-bit, zigzag-mapped, then as an unsigned varint (at most 10 bytes)
 *   string   uvarint byte length, then UTF-8 bytes
 */

const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n
const MASK64 = (1n << 64n) - 1n

export class ByteWriter {
  readonly kind: UserDataKind
  #buffer: Buffer
  #length = 0

  constructor(kind: UserDataKind, initialSize = 256) {
    this.kind = kind
    this.#buffer = Buffer.allocUnsafe(initialSize)
  }

  #reserve(bytes: number): void {
    if (this.#length + bytes <= this.#buffer.length) return
    const next = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + bytes))
    this.#buffer.copy(next, 0, 0, this.#length)
    this.#buffer = next
  }

  u8(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) {
      throw new UserDataEncodeError(this.kind, `byte value ${value} out of range 0..255`)
    }
    this.#reserve(1)
    this.#buffer[this.#length++] = value
  }

  uvarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new UserDataEncodeError(this.kind, `${value} is not a non-negative safe integer`)
    }
    this.#reserve(8)
    let rest = value
    while (rest >= 0x80) {
      this.#buffer[this.#length++] = (rest % 0x80) | 0x80
      rest = Math.floor(rest / 0x80)
    }
    this.#buffer[this.#length++] = rest
  }

  varlong(value: bigint): void {
    if (value < INT64_MIN || value > INT64_MAX) {
      throw new UserDataEncodeError(this.kind, `${value} is outside the int64 range`)
    }
    this.#reserve(10)
    let rest = ((value << 1n) ^ (value >> 63n)) & MASK64
    while (rest >= 0x80n) {
      this.#buffer[this.#length++] = Number(rest & 0x7fn) | 0x80
      rest >>= 7n
    }
    this.#buffer[this.#length++] = Number(rest)
  }

  /** A signed safe integer (e.g. -1 meaning "none"), zigzag-mapped like varlong. */
  varint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new UserDataEncodeError(this.kind, `${value} is not a safe integer`)
    this.varlong(BigInt(value))
  }

  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8')
    this.uvarint(bytes.length)
    this.#reserve(bytes.length)
    bytes.copy(this.#buffer, this.#length)
    this.#length += bytes.length
  }

  /** A copy sized to what was written. */
  toBuffer(): Buffer {
    return Buffer.from(this.#buffer.subarray(0, this.#length))
  }
}

export class ByteReader {
  readonly kind: UserDataKind
  readonly #bytes: Uint8Array
  #offset = 0

  constructor(kind: UserDataKind, bytes: Uint8Array) {
    this.kind = kind
    this.#bytes = bytes
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset
  }

  corrupt(detail: string): UserDataCorruptError {
    return new UserDataCorruptError(this.kind, `${detail} (at byte ${this.#offset} of ${this.#bytes.length})`)
  }

  u8(): number {
    if (this.#offset >= this.#bytes.length) throw this.corrupt('truncated')
    return this.#bytes[this.#offset++]!
  }

  uvarint(): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      const byte = this.u8()
      value += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) throw this.corrupt('varint exceeds 2^53')
        return value
      }
      scale *= 0x80
    }
    throw this.corrupt('varint longer than 8 bytes')
  }

  varlong(): bigint {
    let raw = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.u8()
      raw |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) {
        if (raw > MASK64) throw this.corrupt('varlong exceeds 64 bits')
        return (raw >> 1n) ^ -(raw & 1n)
      }
    }
    throw this.corrupt('varlong longer than 10 bytes')
  }

  varint(): number {
    const value = this.varlong()
    if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.corrupt(`integer ${value} is not a safe integer`)
    }
    return Number(value)
  }

  string(): string {
    const length = this.uvarint()
    if (length > this.remaining) throw this.corrupt(`string of ${length} bytes runs past the end`)
    const start = this.#offset
    this.#offset += length
    return Buffer.from(this.#bytes.buffer, this.#bytes.byteOffset + start, length).toString('utf8')
  }

  /** A count that is about to drive a loop: bounded by the bytes left so garbage cannot allocate gigabytes. */
  count(minBytesPerItem = 1): number {
    const value = this.uvarint()
    if (value * minBytesPerItem > this.remaining) throw this.corrupt(`count ${value} exceeds the remaining bytes`)
    return value
  }
}
