import type { Headers } from './headers.ts'

/**
 * Turns values into record bytes and back. `null` passes through both ways: a `null` value is a tombstone and a `null`
 * key a record without key, and neither has bytes. `topic` lets one serde behave per topic (a schema per subject);
 * headers are read-only here because records share them between branches.
 *
 * A serde throws `SerializationError` / `DeserializationError` (or anything else, which the task wraps) on bad input.
 */
export interface Serde<T> {
  serialize(topic: string, value: T | null, headers?: Headers): Buffer | null
  deserialize(topic: string, data: Buffer | null, headers?: Headers): T | null
}
