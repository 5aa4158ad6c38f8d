import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RecordsBatch } from '@platformatic/kafka'
import { decodeRecordBatches } from '../../../src/kafka/fetch-decoder.ts'

const TRANSACTIONAL = 0x10
const CONTROL = 0x20
const LOG_APPEND_TIME = 0x08

/** A batch as the library's decoder returns it; `values` null for a control batch (`marker`). */
function batch(
  firstOffset: bigint,
  values: string[],
  opts: {
    producerId?: bigint
    attributes?: number
    marker?: 'abort' | 'commit'
    firstTimestamp?: bigint
    maxTimestamp?: bigint
  } = {}
): RecordsBatch {
  const records = opts.marker
    ? [
        {
          length: 0,
          attributes: 0,
          timestampDelta: 0n,
          offsetDelta: 0,
          key: Buffer.from([0, 0, 0, opts.marker === 'abort' ? 0 : 1]),
          value: Buffer.alloc(6),
          headers: []
        }
      ]
    : values.map((v, i) => ({
        length: 0,
        attributes: 0,
        timestampDelta: BigInt(i * 10),
        offsetDelta: i,
        key: Buffer.from(`k-${v}`),
        value: Buffer.from(v),
        headers: [
          [Buffer.from('h'), Buffer.from(v)],
          [Buffer.from('n'), null]
        ] as [Buffer | null, Buffer | null][]
      }))
  return {
    firstOffset,
    length: 0,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0,
    attributes: (opts.attributes ?? 0) | (opts.marker ? CONTROL | TRANSACTIONAL : 0),
    lastOffsetDelta: Math.max(records.length - 1, 0),
    firstTimestamp: opts.firstTimestamp ?? 1_000n,
    maxTimestamp: opts.maxTimestamp ?? 5_000n,
    producerId: opts.producerId ?? -1n,
    producerEpoch: 0,
    firstSequence: 0,
    records
  }
}

const base = { topic: 't', partition: 2, readCommitted: true, abortedTransactions: null, copyBuffers: false }

test('records carry topic, partition, offset, timestamp, key, value and headers; earlier offsets are dropped', () => {
  const { records, nextOffset } = decodeRecordBatches([batch(10n, ['a', 'b', 'c']), batch(13n, ['d'])], {
    ...base,
    fetchOffset: 11n
  })
  assert.deepEqual(
    records.map((r) => [r.offset, r.value?.toString(), r.timestamp]),
    [
      [11n, 'b', 1_010],
      [12n, 'c', 1_020],
      [13n, 'd', 1_000]
    ]
  )
  assert.equal(nextOffset, 14n)
  assert.equal(records[0]?.topic, 't')
  assert.equal(records[0]?.partition, 2)
  assert.deepEqual(records[0]?.key, Buffer.from('k-b'))
  assert.deepEqual(records[0]?.headers, [
    ['h', Buffer.from('b')],
    ['n', Buffer.alloc(0)]
  ])
})

test('LogAppendTime batches use the broker timestamp; copyBuffers detaches records from the response', () => {
  const fetched = batch(0n, ['a'], { attributes: LOG_APPEND_TIME, maxTimestamp: 9_999n })
  const { records } = decodeRecordBatches([fetched], { ...base, fetchOffset: 0n, copyBuffers: true })
  assert.equal(records[0]?.timestamp, 9_999)
  fetched.records[0]?.value?.fill(0) // the network buffer is reused...
  assert.deepEqual(records[0]?.value, Buffer.from('a')) // ...the copy is not affected
})

test('read_committed skips aborted transactions, including a second one of the same producer', () => {
  const p1 = 7n
  const p2 = 8n
  const batches = [
    batch(0n, ['p1-aborted-1', 'p1-aborted-2'], { producerId: p1, attributes: TRANSACTIONAL }),
    batch(2n, ['p2-committed'], { producerId: p2, attributes: TRANSACTIONAL }),
    batch(3n, [], { producerId: p1, marker: 'abort' }),
    batch(4n, [], { producerId: p2, marker: 'commit' }),
    batch(5n, ['plain'], {}),
    batch(6n, ['p1-committed'], { producerId: p1, attributes: TRANSACTIONAL }),
    batch(7n, [], { producerId: p1, marker: 'commit' }),
    batch(8n, ['p1-aborted-again'], { producerId: p1, attributes: TRANSACTIONAL }),
    batch(9n, [], { producerId: p1, marker: 'abort' })
  ]
  const aborted = [
    { producerId: p1, firstOffset: 8n },
    { producerId: p1, firstOffset: 0n }
  ]
  const committed = decodeRecordBatches(batches, { ...base, fetchOffset: 0n, abortedTransactions: aborted })
  assert.deepEqual(
    committed.records.map((r) => r.value?.toString()),
    ['p2-committed', 'plain', 'p1-committed']
  )
  assert.equal(committed.nextOffset, 10n, 'the position moves past the trailing marker')

  const uncommitted = decodeRecordBatches(batches, {
    ...base,
    readCommitted: false,
    fetchOffset: 0n,
    abortedTransactions: aborted
  })
  assert.deepEqual(
    uncommitted.records.map((r) => r.value?.toString()),
    ['p1-aborted-1', 'p1-aborted-2', 'p2-committed', 'plain', 'p1-committed', 'p1-aborted-again'],
    'read_uncommitted returns everything but the markers'
  )
})

test('a response of only markers yields no records but a next offset; an empty response yields neither', () => {
  const onlyMarker = decodeRecordBatches([batch(41n, [], { producerId: 1n, marker: 'commit' })], {
    ...base,
    fetchOffset: 41n
  })
  assert.deepEqual(onlyMarker, { records: [], nextOffset: 42n })
  assert.deepEqual(decodeRecordBatches(null, { ...base, fetchOffset: 0n }), { records: [], nextOffset: undefined })
  assert.deepEqual(decodeRecordBatches([], { ...base, fetchOffset: 0n }), { records: [], nextOffset: undefined })
})
