import { IS_CONTROL, IS_TRANSACTIONAL, type RecordsBatch } from '@platformatic/kafka'
import type { ConsumedRecord, RecordHeader } from './types.ts'

/**
 * Turns the record batches of one partition's fetch response into records, the way Java's consumer does
 * (`CompletedFetch`): records below the fetch offset are dropped (a batch starts where it starts, compressed or not),
 * control batches never reach the caller, and under read_committed the batches of aborted transactions are skipped
 * using the response's aborted-transaction list and the ABORT markers. Pure: no I/O, tested without a broker.
 *
 * The library's consumer has its own filter, but it keeps one range per producer id and tests batch offsets only,
 * which loses a producer's second aborted transaction in the same response.
 */

/** Timestamp type bit of the batch attributes: set when the broker stamped records (LogAppendTime). */
const LOG_APPEND_TIME = 0x08
const CONTROL_ABORT = 0
const EMPTY = Buffer.alloc(0)

export interface DecodeOptions {
  topic: string
  partition: number
  fetchOffset: bigint
  readCommitted: boolean
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null | undefined
  /** Copy keys, values and headers out of the network buffers, so a kept record does not pin a whole socket chunk. */
  copyBuffers: boolean
}

export interface DecodedFetch {
  records: ConsumedRecord[]
  /** Offset after the last batch seen, including skipped control and aborted batches; undefined when none. */
  nextOffset: bigint | undefined
}

export function decodeRecordBatches(batches: RecordsBatch[] | null | undefined, options: DecodeOptions): DecodedFetch {
  const records: ConsumedRecord[] = []
  let nextOffset: bigint | undefined
  if (!batches || batches.length === 0) return { records, nextOffset }
  const { topic, partition, fetchOffset, copyBuffers } = options
  const aborted = options.readCommitted
    ? [...(options.abortedTransactions ?? [])].sort((a, b) =>
        a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0
      )
    : []
  let abortedIndex = 0
  const abortedProducers = new Set<bigint>()

  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta)
    nextOffset = lastOffset + 1n
    const isControl = (batch.attributes & IS_CONTROL) !== 0
    if (options.readCommitted && batch.producerId >= 0n) {
      // A transaction listed as aborted covers its producer's batches from its first offset until the ABORT marker.
      while (abortedIndex < aborted.length && aborted[abortedIndex]!.firstOffset <= lastOffset) {
        abortedProducers.add(aborted[abortedIndex]!.producerId)
        abortedIndex++
      }
      const key = isControl ? batch.records[0]?.key : undefined
      if (key && key.length >= 4 && key.readInt16BE(2) === CONTROL_ABORT) {
        abortedProducers.delete(batch.producerId)
      } else if ((batch.attributes & IS_TRANSACTIONAL) !== 0 && abortedProducers.has(batch.producerId)) {
        continue
      }
    }
    if (isControl) continue
    if (lastOffset < fetchOffset) continue

    const logAppendTime = (batch.attributes & LOG_APPEND_TIME) !== 0
    const baseTimestamp = Number(logAppendTime ? batch.maxTimestamp : batch.firstTimestamp)
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta)
      if (offset < fetchOffset) continue
      let headers: RecordHeader[]
      if (record.headers.length === 0) {
        headers = []
      } else {
        headers = new Array(record.headers.length)
        for (let i = 0; i < record.headers.length; i++) {
          const [k, v] = record.headers[i]!
          headers[i] = [k ? k.toString('utf8') : '', v ? (copyBuffers ? Buffer.from(v) : v) : EMPTY]
        }
      }
      records.push({
        topic,
        partition,
        offset,
        timestamp: logAppendTime ? baseTimestamp : baseTimestamp + Number(record.timestampDelta),
        key: record.key && copyBuffers ? Buffer.from(record.key) : record.key,
        value: record.value && copyBuffers ? Buffer.from(record.value) : record.value,
        headers
      })
    }
  }
  return { records, nextOffset }
}
