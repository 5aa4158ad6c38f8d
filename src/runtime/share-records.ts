import type { ProducerRecord, RecordHeader, ShareRecord } from '../kafka/index.ts'
import { ERROR_HEADERS, type ProducedRecord } from '../topology/index.ts'

/** What a share-group app writes: a record's outputs, and the dead-letter copy of a record that failed for good. */

export function toProducerRecord(record: ProducedRecord): ProducerRecord {
  const headers: RecordHeader[] = []
  for (const [key, value] of record.headers) headers.push([key, value ?? Buffer.alloc(0)])
  return {
    topic: record.topic,
    ...(record.partition !== undefined ? { partition: record.partition } : {}),
    key: record.key,
    value: record.value,
    headers,
    timestamp: record.timestamp
  }
}

/** The consumed record, bytes untouched, with the runtime's `streamlane.error.*` headers. */
export function deadLetter(topic: string, record: ShareRecord, error: Error): ProducerRecord {
  const headers: RecordHeader[] = [
    ...record.headers,
    [ERROR_HEADERS.class, Buffer.from(error.name)],
    [ERROR_HEADERS.message, Buffer.from(error.message)],
    [ERROR_HEADERS.stage, Buffer.from('processing')],
    [ERROR_HEADERS.topic, Buffer.from(record.topic)],
    [ERROR_HEADERS.partition, Buffer.from(String(record.partition))],
    [ERROR_HEADERS.offset, Buffer.from(String(record.offset))],
    ['streamlane.error.delivery.count', Buffer.from(String(record.deliveryCount))]
  ]
  return { topic, key: record.key, value: record.value, headers, timestamp: record.timestamp }
}
