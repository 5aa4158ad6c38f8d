import { StreamlaneError } from '../errors.ts'
import type { Serde } from '../serde/index.ts'
import { Headers } from '../serde/index.ts'
import type { KeyValueStore, Windowed } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier } from '../topology/index.ts'
import { forEachInOrder } from '../topology/index.ts'
import type { Change } from './change.ts'

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
      if (size === null) {
        size = { records: 0, bytes: 0 }
        const iterator = buffer.all()
        try {
          for (const { key, value } of iterator) {
            size.records++
            size.bytes += key.length + value.length
          }
        } finally {
          iterator.close()
        }
      }
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
        const closed = closedWindows(buffer, observedStreamTime - closesAfterEndMs)
        // As Kafka Streams: capacity is checked once the closed windows are out of the buffer.
        for (const { key, value } of closed) resize(key, value, null)
        if (limited) checkCapacity(bufferName, sizeOf(), limits)
        return forEachInOrder(closed, ({ key, value }) => {
          buffer.delete(key)
          return context.forward({
            key: keySerde.deserialize(topic, key.subarray(8)) as Windowed<K>,
            value: { newValue: valueSerde.deserialize(topic, value.subarray(8)) as V, oldValue: null },
            timestamp: value.readUInt32BE(0) * 2 ** 32 + value.readUInt32BE(4),
            headers: Headers.empty
          })
        })
      }
    }
  }
}

/** A bounded buffer (`Suppressed.untilWindowCloses({ maxRecords, maxBytes })`): full means the task stops. */
export interface SuppressBufferLimits {
  readonly maxRecords?: number
  readonly maxBytes?: number
}

function checkCapacity(
  bufferName: string,
  size: { records: number; bytes: number },
  limits: SuppressBufferLimits
): void {
  const { maxRecords = Number.POSITIVE_INFINITY, maxBytes = Number.POSITIVE_INFINITY } = limits
  if (size.records <= maxRecords && size.bytes <= maxBytes) return
  throw new SuppressBufferFullError(bufferName, size, limits)
}

/** A suppress buffer went over its `maxRecords` / `maxBytes` (Kafka Streams' `shutDownWhenFull`). */
export class SuppressBufferFullError extends StreamlaneError {
  constructor(bufferName: string, size: { records: number; bytes: number }, limits: SuppressBufferLimits) {
    super(
      'STREAMLANE_SUPPRESS_BUFFER_FULL',
      `suppress buffer ${bufferName} is over its capacity: it holds ${size.records} records and ${size.bytes} bytes, ` +
        `but the limit is ${limits.maxRecords ?? 'unbounded'} records and ${limits.maxBytes ?? 'unbounded'} bytes; ` +
        'raise maxRecords / maxBytes in Suppressed.untilWindowCloses, or shorten the windows or their grace period'
    )
  }
}

/** Buffered entries whose window ended at or before `closedUpTo`, in closing order. */
function closedWindows(buffer: KeyValueStore<Buffer, Buffer>, closedUpTo: number) {
  const closed: { key: Buffer; value: Buffer }[] = []
  if (closedUpTo < 0) return closed
  const iterator = buffer.all()
  try {
    for (const entry of iterator) {
      const end = entry.key.readUInt32BE(0) * 2 ** 32 + entry.key.readUInt32BE(4)
      if (end > closedUpTo) break
      closed.push({ key: Buffer.from(entry.key), value: Buffer.from(entry.value) })
    }
  } finally {
    iterator.close()
  }
  return closed
}

function time(ms: number): Buffer {
  const bytes = Buffer.allocUnsafe(8)
  bytes.writeUInt32BE(Math.floor(ms / 2 ** 32), 0)
  bytes.writeUInt32BE(ms % 2 ** 32, 4)
  return bytes
}
