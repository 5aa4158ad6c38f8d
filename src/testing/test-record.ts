import type { Headers } from '../serde/index.ts'

/** A record read from (or piped into) a test topic. */
export interface TestRecord<K, V> {
  readonly topic: string
  readonly key: K
  readonly value: V
  readonly timestamp: number
  readonly headers: Headers
  /** Offset in the driver's log of that topic. */
  readonly offset: number
}

export interface KeyValue<K, V> {
  readonly key: K
  readonly value: V
}
