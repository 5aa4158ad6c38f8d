import assert from 'node:assert/strict'
import { test } from 'node:test'
import { defaultPartitioner, murmur2 as libraryMurmur2 } from '@platformatic/kafka'
import { murmur2, murmur2Partition } from '../../../src/kafka/partitioner.ts'

/**
 * Expected values were printed by Kafka 4.3.1's own classes (kafka-clients on the broker's classpath):
 * `Utils.murmur2(key.getBytes(UTF_8))` and `BuiltInPartitioner.partitionForKey(bytes, n)` for n = 1, 3, 7, 12, 100.
 * The first rows include Kafka's UtilsTest.testMurmur2 vectors.
 */
const JAVA_VECTORS: [key: string, hash: number, partitions: number[]][] = [
  ['21', -973932308, [0, 0, 3, 0, 40]],
  ['foobar', -790332482, [0, 0, 0, 6, 66]],
  ['a-little-bit-long-string', -985981536, [0, 2, 1, 8, 12]],
  ['a-little-bit-longer-string', -1486304829, [0, 2, 0, 11, 19]],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, [0, 2, 3, 5, 77]],
  ['', 275646681, [0, 0, 2, 9, 81]],
  ['a', -1563381124, [0, 1, 5, 4, 24]],
  ['ab', 316155434, [0, 2, 0, 2, 34]],
  ['abc', 479470107, [0, 0, 4, 3, 7]],
  ['abcd', -1323649548, [0, 2, 5, 8, 0]],
  ['user-42', 1459644460, [0, 1, 1, 4, 60]],
  ['order:2024-11-05:000123', -2069114498, [0, 0, 6, 6, 50]],
  ['ключ', 2122343024, [0, 2, 4, 8, 24]],
  ['été', -2101193575, [0, 1, 4, 1, 73]]
]
const COUNTS = [1, 3, 7, 12, 100]

test('murmur2 equals Java Utils.murmur2 on every tail length and multi-byte text', () => {
  for (const [key, hash] of JAVA_VECTORS) assert.equal(murmur2(Buffer.from(key, 'utf8')), hash, key)
  assert.equal(murmur2(Buffer.from([0x00, 0xff, 0x80, 0x7f, 0x01])), -1777108196, 'bytes with the sign bit set')
})

test('murmur2Partition equals Java BuiltInPartitioner.partitionForKey', () => {
  for (const [key, , partitions] of JAVA_VECTORS) {
    COUNTS.forEach((count, i) => {
      assert.equal(murmur2Partition(Buffer.from(key, 'utf8'), count), partitions[i], `${key} over ${count} partitions`)
    })
  }
  assert.equal(murmur2Partition(Buffer.from([0x00, 0xff, 0x80, 0x7f, 0x01]), 7), 6)
  assert.throws(() => murmur2Partition(Buffer.from('k'), 0), RangeError)
})

test('why we do not use the library partitioner: it disagrees with Java for negative hashes', () => {
  // Same hash as Java...
  assert.equal(libraryMurmur2(Buffer.from('a')), -1563381124)
  // ...but it keeps the unsigned value, so `% 7` lands on another partition than Java's 5.
  const libraryPartition = defaultPartitioner({ topic: 't' } as never, Buffer.from('a')) % 7
  assert.notEqual(libraryPartition, 5)
  assert.equal(murmur2Partition(Buffer.from('a'), 7), 5)
})
