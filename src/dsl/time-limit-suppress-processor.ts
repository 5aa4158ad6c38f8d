import type { Serde } from '../serde/index.ts'
import { Headers } from '../serde/index.ts'
import type { KeyValueStore } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier } from '../topology/index.ts'
import { forEachInOrder } from '../topology/index.ts'
import type { Change } from './change.ts'
import {
  type BufferEntry,
  type BufferSize,
  bufferSize,
  dueEntries,
  isOverCapacity,
  readTime,
  SuppressBufferFullError,
  type SuppressBufferLimits,
  time
} from './suppress-buffer.ts'

/** What a full buffer does (`Suppressed.untilTimeLimit`): forward its oldest updates early, or stop the task. */
export type BufferFullStrategy = 'emitEarly' | 'shutDown'

const SORTED = 0
const INDEX = 1

/**
 * Holds each key's updates back until `timeToWaitMs` of stream time passed since its first held update, then forwards
 * the latest (Kafka Streams' KTableSuppressProcessor with `untilTimeLimit`): a later update of a held key replaces its
 * value but keeps its place, and tombstones are forwarded too. The buffer is a logged key-value store of bytes:
 *
 *   0 | buffer time (8 bytes) | key  ->  timestamp (8 bytes) | new value | old value  (held updates, in emit order)
 *   1 | key                          ->  buffer time (8 bytes)                         (where a key's update is)
 *
 * Values are written length-prefixed (4 bytes, 0xffffffff for null). Stream time is the largest timestamp the node
 * has seen. When `limits` are passed, a full buffer forwards its oldest updates early, or fails the task.
 */
export function timeLimitSuppressProcessor<K, V>(
  bufferName: string,
  timeToWaitMs: number,
  keySerde: Serde<K>,
  valueSerde: Serde<V>,
  limits: SuppressBufferLimits = {},
  whenFull: BufferFullStrategy = 'emitEarly'
): ProcessorSupplier<K, Change<V>, K, Change<V>> {
  return () => {
    let context: ProcessorContext<K, Change<V>>
    let buffer: KeyValueStore<Buffer, Buffer>
    let topic: string
    let observedStreamTime = -1
    // Counted on first use, after the buffer was restored; then kept up to date.
    let size: BufferSize | null = null
    const sizeOf = () => {
      size ??= bufferSize(buffer, (key) => key[0] === SORTED)
      return size
    }
    const overCapacity = (s: BufferSize) => isOverCapacity(s, limits)
    return {
      init(c) {
        context = c
        buffer = c.getStateStore<KeyValueStore<Buffer, Buffer>>(bufferName)
        topic = `${c.applicationId}-${bufferName}-changelog`
      },
      process(record) {
        observedStreamTime = Math.max(observedStreamTime, record.timestamp)
        const keyBytes = keySerde.serialize(topic, record.key)
        if (keyBytes === null) return
        const s = sizeOf()
        const indexKey = Buffer.concat([Buffer.of(INDEX), keyBytes])
        const heldAt = buffer.get(indexKey)
        const sortedKey = Buffer.concat([Buffer.of(SORTED), heldAt ?? time(record.timestamp), keyBytes])
        const entry = Buffer.concat([
          time(record.timestamp),
          part(valueSerde.serialize(topic, record.value.newValue)),
          part(record.value.oldValue === null ? null : valueSerde.serialize(topic, record.value.oldValue))
        ])
        const before = heldAt === null ? null : buffer.get(sortedKey)
        if (before !== null) s.bytes -= sortedKey.length + before.length
        else s.records++
        s.bytes += sortedKey.length + entry.length
        buffer.put(sortedKey, entry)
        if (heldAt === null) buffer.put(indexKey, time(record.timestamp))

        const due = evictions(buffer, s, observedStreamTime - timeToWaitMs, overCapacity, whenFull)
        if (whenFull === 'shutDown' && overCapacity(s)) throw new SuppressBufferFullError(bufferName, s, limits)
        return forEachInOrder(due, ({ key, value }) => {
          buffer.delete(key)
          buffer.delete(Buffer.concat([Buffer.of(INDEX), key.subarray(9)]))
          const newLength = value.readInt32BE(8)
          const newBytes = newLength < 0 ? null : value.subarray(12, 12 + newLength)
          const oldBytes = value.subarray(12 + Math.max(newLength, 0))
          const oldLength = oldBytes.readInt32BE(0)
          return context.forward({
            key: keySerde.deserialize(topic, key.subarray(9)) as K,
            value: {
              newValue: newBytes === null ? null : (valueSerde.deserialize(topic, newBytes) as V),
              oldValue: oldLength < 0 ? null : (valueSerde.deserialize(topic, oldBytes.subarray(4)) as V)
            },
            timestamp: readTime(value, 0),
            headers: Headers.empty
          })
        })
      }
    }
  }
}

/**
 * The held updates to forward now, in buffer order: those held since `expiredUpTo` or before, then, when the buffer
 * is still over capacity and may emit early, the oldest others until it is not. `size` is updated for them.
 */
function evictions(
  buffer: KeyValueStore<Buffer, Buffer>,
  size: BufferSize,
  expiredUpTo: number,
  overCapacity: (size: BufferSize) => boolean,
  whenFull: BufferFullStrategy
): BufferEntry[] {
  return dueEntries(buffer, (key, value) => {
    if (key[0] !== SORTED) return false
    const expired = readTime(key, 1) <= expiredUpTo
    if (!expired && !(whenFull === 'emitEarly' && overCapacity(size))) return false
    size.records--
    size.bytes -= key.length + value.length
    return true
  })
}

function part(bytes: Buffer | null): Buffer {
  const length = Buffer.allocUnsafe(4)
  length.writeInt32BE(bytes === null ? -1 : bytes.length, 0)
  return bytes === null ? length : Buffer.concat([length, bytes])
}
