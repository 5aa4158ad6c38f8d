import { StreamlaneError } from '../errors.ts'
import { DeserializationError, isDeserializationError, type RecordPart } from '../serde/index.ts'
import { recordTimestamp } from './extractors.ts'
import type { RawRecord } from './record.ts'
import type { SourceDefinition } from './topology.ts'
import { InvalidTimestampError, MAX_RECORD_TIMESTAMP, messageOf } from './topology-errors.ts'

export interface DecodedParts {
  readonly key: unknown
  readonly value: unknown
  readonly timestamp: number
}

/**
 * Deserializes a consumed record with its source's serdes and extracts its timestamp. Every failure comes out
 * located (topic, partition, offset, key or value), whatever the serde or extractor threw.
 */
export function decodeRecord(raw: RawRecord, source: SourceDefinition, partitionTimeMs: number): DecodedParts {
  const key = deserialize(() => source.keySerde.deserialize(raw.topic, raw.key, raw.headers), raw, 'key')
  const value = deserialize(() => source.valueSerde.deserialize(raw.topic, raw.value, raw.headers), raw, 'value')
  const extractor = source.timestampExtractor
  let timestamp: number
  try {
    // The default extractor needs no record object: skip the allocation on the hot path.
    timestamp = extractor === recordTimestamp ? raw.timestamp : extractor({ ...raw, key, value }, partitionTimeMs)
  } catch (error) {
    throw new StreamlaneError(
      'STREAMLANE_TIMESTAMP_EXTRACTION_FAILED',
      `the timestamp extractor of source ${source.name} failed on the record at topic ${raw.topic} partition ` +
        `${raw.partition} offset ${raw.offset}: ${messageOf(error)}`,
      { cause: error }
    )
  }
  if (!Number.isInteger(timestamp) || timestamp < 0 || timestamp > MAX_RECORD_TIMESTAMP) {
    throw new InvalidTimestampError(raw, timestamp)
  }
  return { key, value, timestamp }
}

function deserialize(read: () => unknown, raw: RawRecord, part: RecordPart): unknown {
  try {
    return read()
  } catch (error) {
    const location = { partition: raw.partition, offset: raw.offset, part }
    if (isDeserializationError(error)) throw error.at(location)
    throw new DeserializationError({ topic: raw.topic, reason: messageOf(error), ...location }, { cause: error })
  }
}
