/**
 * The metadata string a task commits with each input partition's offset, in Kafka Streams' format
 * (TopicPartitionMetadata, version 2): base64 of a magic byte 2, the partition time (int64), then the processor
 * metadata as an int32 count and per entry an int32 key length, the UTF-8 key and an int64 value. Kafka Streams
 * restores partition time and processor metadata from it, and so does Streamlane; the same bytes keep tools that read
 * Kafka Streams' committed metadata working on Streamlane groups.
 */

const MAGIC_V1 = 1
const MAGIC_V2 = 2

export interface CommittedTaskMetadata {
  /** Largest timestamp the last owner processed on the partition; -1 when unknown. */
  readonly partitionTimeMs: number
  readonly processorMetadata: ReadonlyMap<string, number>
}

const UNKNOWN: CommittedTaskMetadata = { partitionTimeMs: -1, processorMetadata: new Map() }

export function encodeCommittedMetadata(
  partitionTimeMs: number,
  processorMetadata: Iterable<readonly [string, number]>
): string {
  const entries = [...processorMetadata].map(([key, value]) => [Buffer.from(key, 'utf8'), value] as const)
  const metadataBytes = entries.length === 0 ? 0 : 4 + entries.reduce((sum, [key]) => sum + 4 + key.length + 8, 0)
  const buffer = Buffer.alloc(1 + 8 + metadataBytes)
  buffer.writeUInt8(MAGIC_V2, 0)
  buffer.writeBigInt64BE(BigInt(partitionTimeMs), 1)
  if (entries.length > 0) {
    let at = buffer.writeInt32BE(entries.length, 9)
    for (const [key, value] of entries) {
      at = buffer.writeInt32BE(key.length, at)
      at += key.copy(buffer, at)
      at = buffer.writeBigInt64BE(BigInt(value), at)
    }
  }
  return buffer.toString('base64')
}

/**
 * Reads what `encodeCommittedMetadata` (or Kafka Streams) wrote. Anything else, an empty string or metadata another
 * kind of consumer committed, means "unknown": the task starts as one without committed metadata, as Kafka Streams
 * does (it logs a warning and goes on).
 */
export function decodeCommittedMetadata(text: string | null | undefined): CommittedTaskMetadata {
  if (!text) return UNKNOWN
  try {
    const buffer = Buffer.from(text, 'base64')
    const version = buffer.readUInt8(0)
    if (version !== MAGIC_V1 && version !== MAGIC_V2) return UNKNOWN
    const partitionTimeMs = Number(buffer.readBigInt64BE(1))
    const processorMetadata = new Map<string, number>()
    if (version === MAGIC_V2 && buffer.length > 9) {
      const count = buffer.readInt32BE(9)
      let at = 13
      for (let i = 0; i < count; i++) {
        const keyLength = buffer.readInt32BE(at)
        if (keyLength < 0 || at + 4 + keyLength > buffer.length) return UNKNOWN
        const key = buffer.toString('utf8', at + 4, at + 4 + keyLength)
        processorMetadata.set(key, Number(buffer.readBigInt64BE(at + 4 + keyLength)))
        at += 4 + keyLength + 8
      }
    }
    return { partitionTimeMs, processorMetadata }
  } catch {
    // Buffer reads past the end throw RangeError: truncated or foreign metadata.
    return UNKNOWN
  }
}
