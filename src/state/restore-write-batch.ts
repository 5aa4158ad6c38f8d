/**
 * The wire format between the main thread and the restore write worker: one batch of a store's writes packed into
 * one buffer (moved, not copied, to the worker), and the messages both ways. Each entry: key length (u16), value
 * length (u32, 0xffffffff for a delete), key bytes (as stored in LMDB, prefix byte included), value bytes.
 */
import type { BytesWrite } from './bytes-store.ts'

const DELETE = 0xffffffff
const HEADER = 6

export type RestoreWriteMessage =
  | {
      readonly type: 'write'
      readonly id: number
      readonly path: string
      readonly maxDbs: number
      readonly noSync: boolean
      readonly db: string
      readonly metaDb: string
      /** Packed batches, committed in one transaction with the checkpoint after the last. */
      readonly batches: readonly ArrayBuffer[]
      readonly checkpointKey: Uint8Array
      readonly checkpointValue: Uint8Array
    }
  | { readonly type: 'release'; readonly id: number; readonly path: string }

export type RestoreWriteReply =
  | { readonly type: 'written' | 'released'; readonly id: number }
  | { readonly type: 'failed'; readonly id: number; readonly message: string }

/** Packs `writes`, each key behind `prefix` (LMDB's stored form), into one new buffer of its own. */
export function packWrites(writes: readonly BytesWrite[], prefix: number): ArrayBuffer {
  let size = 0
  for (const { key, value } of writes) size += HEADER + 1 + key.length + (value?.length ?? 0)
  const packed = new ArrayBuffer(size)
  const out = Buffer.from(packed)
  let at = 0
  for (const { key, value } of writes) {
    out.writeUInt16LE(key.length + 1, at)
    out.writeUInt32LE(value === null ? DELETE : value.length, at + 2)
    out[at + HEADER] = prefix
    at += HEADER + 1
    at += key.copy(out, at)
    if (value !== null) at += value.copy(out, at)
  }
  return packed
}

/** Calls `write` with each entry of a packed batch; keys and values are views into `packed`. */
export function unpackWrites(packed: Buffer, write: (key: Buffer, value: Buffer | null) => void): void {
  let at = 0
  while (at < packed.length) {
    const keyLength = packed.readUInt16LE(at)
    const valueLength = packed.readUInt32LE(at + 2)
    at += HEADER
    const key = packed.subarray(at, at + keyLength)
    at += keyLength
    if (valueLength === DELETE) {
      write(key, null)
    } else {
      write(key, packed.subarray(at, at + valueLength))
      at += valueLength
    }
  }
}
