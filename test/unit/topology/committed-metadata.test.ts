import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeCommittedMetadata, encodeCommittedMetadata } from '../../../src/topology/committed-metadata.ts'

// Both strings were printed by Kafka Streams 4.3.1's TopicPartitionMetadata.encode() (the same inputs).
const KAFKA_STREAMS_WITH_METADATA = 'AgAAAYvP5Zg5AAAAAQAAAAxjb3VudHMtc3RvcmUAAAGLz+VoAA=='
const KAFKA_STREAMS_TIME_ONLY = 'AgAAAAAAAAAq'

test('encodes partition time and processor metadata byte for byte as Kafka Streams does', () => {
  assert.equal(encodeCommittedMetadata(1700000012345, [['counts-store', 1700000000000]]), KAFKA_STREAMS_WITH_METADATA)
  assert.equal(encodeCommittedMetadata(42, []), KAFKA_STREAMS_TIME_ONLY)
})

test('decodes what Kafka Streams committed', () => {
  const decoded = decodeCommittedMetadata(KAFKA_STREAMS_WITH_METADATA)
  assert.equal(decoded.partitionTimeMs, 1700000012345)
  assert.deepEqual([...decoded.processorMetadata], [['counts-store', 1700000000000]])
  assert.equal(decodeCommittedMetadata(KAFKA_STREAMS_TIME_ONLY).partitionTimeMs, 42)
})

test('reads version 1 (partition time only) and round-trips several keys and a negative time', () => {
  const v1 = Buffer.alloc(9)
  v1.writeUInt8(1, 0)
  v1.writeBigInt64BE(5000n, 1)
  assert.equal(decodeCommittedMetadata(v1.toString('base64')).partitionTimeMs, 5000)
  const text = encodeCommittedMetadata(-1, [
    ['a', 1],
    ['ünï', 2]
  ])
  const decoded = decodeCommittedMetadata(text)
  assert.equal(decoded.partitionTimeMs, -1)
  assert.deepEqual(Object.fromEntries(decoded.processorMetadata), { a: 1, ünï: 2 })
})

test('metadata it cannot read means unknown, never an error', () => {
  for (const text of [null, undefined, '', 'not base64 at all', Buffer.from([9, 1, 2]).toString('base64')]) {
    const decoded = decodeCommittedMetadata(text)
    assert.equal(decoded.partitionTimeMs, -1)
    assert.equal(decoded.processorMetadata.size, 0)
  }
  const truncated = Buffer.from(KAFKA_STREAMS_WITH_METADATA, 'base64').subarray(0, 20).toString('base64')
  assert.equal(decodeCommittedMetadata(truncated).processorMetadata.size, 0)
})
