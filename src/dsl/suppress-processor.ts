import type { Serde } from '../serde/index.ts'
import { Headers } from '../serde/index.ts'
import type { KeyValueStore, Windowed } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier } from '../topology/index.ts'
import { forEachInOrder } from '../topology/index.ts'
import type { Change } from './change.ts'
import {
  bufferSize,
  dueEntries,
  isOverCapacity,
  readTime,
  SuppressBufferFullError,
  type SuppressBufferLimits,
  time
} from './suppress-buffer.ts'

/**
 * Buffers windowed updates until their window closes, then forwards each window's last value once (Kafka Streams'
 * KTableSuppressProcessor with untilWindowCloses). The buffer is a key-value store of bytes:
 *
 *   key:   window end (8 bytes, big-endian) | windowed key (the table's key serde)
 *   value: record timestamp (8 bytes)       | value (the table's value serde)
 *
 * so one key scan in byte order visits windows in the order they close. A window is final when the suppress node's
 * stream time (the largest timestamp it has seen) reaches its end plus `closesAfterEndMs` (see `WindowedTableInfo`):
 * from then on its aggregation drops any record for it as late. A deletion (a session merged into another) removes the buffered
 * update: final results never include tombstones.
 */
export function suppressProcessor<K, V>(
  bufferName: string,
  closesAfterEndMs: number,
  keySerde: Serde<Windowed<K>>,
  valueSerde: Serde<V>,
  limits: SuppressBufferLimits = {}
): ProcessorSupplier<Windowed<K>, Change<V>, Windowed<K>, Change<V>> {
  return () => {
    let context: ProcessorContext<Windowed<K>, Change<V>>
    let buffer: KeyValueStore<Buffer, Buffer>
    let topic: string
    let observedStreamTime = -1
    const limited = limits.maxRecords !== undefined || limits.maxBytes !== undefined
    // Counted on first use, after the buffer was restored; then kept up to date.
    let size: { records: number; bytes: number } | null = null
    const sizeOf = () => {
      size ??= bufferSize(buffer)
      return size
    }
    const resize = (key: Buffer, before: Buffer | null, after: Buffer | null) => {
      if (!limited) return
      const s = sizeOf()
      if (before !== null) {
        s.records--
        s.bytes -= key.length + before.length
      }
      if (after !== null) {
        s.records++
        s.bytes += key.length + after.length
      }
    }
    return {
      init(c) {
        context = c
        buffer = c.getStateStore<KeyValueStore<Buffer, Buffer>>(bufferName)
        topic = `${c.applicationId}-${bufferName}-changelog`
      },
      process(record) {
        const keyBytes = keySerde.serialize(topic, record.key)
        if (keyBytes === null) return
        const bufferKey = Buffer.concat([time(record.key.window.end), keyBytes])
        const { newValue } = record.value
        if (limited) sizeOf()
        const before = limited ? buffer.get(bufferKey) : null
        if (newValue === null) {
          if ((limited ? before : buffer.get(bufferKey)) !== null) buffer.delete(bufferKey)
          resize(bufferKey, before, null)
        } else {
          const valueBytes = valueSerde.serialize(topic, newValue) ?? Buffer.alloc(0)
          const entry = Buffer.concat([time(record.timestamp), valueBytes])
          buffer.put(bufferKey, entry)
          resize(bufferKey, before, entry)
        }
        observedStreamTime = Math.max(observedStreamTime, record.timestamp)
        const closedUpTo = observedStreamTime - closesAfterEndMs
        const closed = closedUpTo < 0 ? [] : dueEntries(buffer, (key) => readTime(key, 0) <= closedUpTo)
        // As Kafka Streams: capacity is checked once the closed windows are out of the buffer.
        for (const { key, value } of closed) resize(key, value, null)
        if (limited && isOverCapacity(sizeOf(), limits)) throw new SuppressBufferFullError(bufferName, sizeOf(), limits)
        return forEachInOrder(closed, ({ key, value }) => {
          buffer.delete(key)
          return context.forward({
            key: keySerde.deserialize(topic, key.subarray(8)) as Windowed<K>,
            value: { newValue: valueSerde.deserialize(topic, value.subarray(8)) as V, oldValue: null },
            timestamp: readTime(value, 0),
            headers: Headers.empty
          })
        })
      }
    }
  }
}
