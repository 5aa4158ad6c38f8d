/**
 * Java's default partitioner for keyed records: `toPositive(Utils.murmur2(key)) % numPartitions`. Co-partitioning
 * with Kafka Streams and every Java / librdkafka (`murmur2_random`) producer depends on matching it bit for bit.
 *
 * Why not the client library's: @platformatic/kafka's `defaultPartitioner` takes `murmur2(key) >>> 0` (the unsigned
 * value) where Java masks the sign bit (`& 0x7fffffff`); for the half of keys whose hash is negative the two differ
 * modulo most partition counts. Its `murmur2` also computes in BigInt, which grows with the key length.
 */

const SEED = 0x9747b28c
const M = 0x5bd1e995

/** Kafka's `Utils.murmur2`: a signed 32-bit hash of the bytes, identical to the Java implementation. */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = SEED ^ length
  const length4 = length & ~3
  for (let i = 0; i < length4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  // Java's switch falls through from case 3 to case 1.
  const tail = length & 3
  if (tail === 3) h ^= data[length4 + 2]! << 16
  if (tail >= 2) h ^= data[length4 + 1]! << 8
  if (tail >= 1) {
    h ^= data[length4]!
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** The partition Java's default partitioner picks for a non-null key. */
export function murmur2Partition(keyBytes: Uint8Array, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`)
  }
  return (murmur2(keyBytes) & 0x7fffffff) % numPartitions
}
