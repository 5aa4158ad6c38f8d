import { jsonSchemaSerde, jsonSerde } from './json-serdes.ts'
import { bytesSerde, doubleSerde, int32Serde, longSerde, stringSerde } from './primitive-serdes.ts'
import { sessionWindowedSerde, timeWindowedSerde } from './windowed-serdes.ts'

export { type HeaderEntry, Headers, type HeaderValue } from './headers.ts'
export type { JsonSchemaSerdeOptions } from './json-serdes.ts'
export { bytesSerde, longSerde } from './primitive-serdes.ts'
export type { Serde } from './serde.ts'
export {
  DeserializationError,
  isDeserializationError,
  isSerializationError,
  type RecordLocation,
  type RecordPart,
  SerializationError
} from './serde-errors.ts'
export { sessionWindowedSerde, timeWindowedSerde, type WindowedKey } from './windowed-serdes.ts'

/** The built-in serdes: `Serdes.string()`, `Serdes.jsonSchema(schema)`, ... */
export const Serdes = {
  bytes: bytesSerde,
  string: stringSerde,
  json: jsonSerde,
  jsonSchema: jsonSchemaSerde,
  int32: int32Serde,
  long: longSerde,
  double: doubleSerde,
  /** Keys of time-windowed results: `Serdes.windowed(Serdes.string(), 60_000)` (Kafka's TimeWindowedSerde). */
  windowed: timeWindowedSerde,
  /** Keys of session-windowed results (Kafka's SessionWindowedSerde). */
  sessionWindowed: sessionWindowedSerde
} as const
