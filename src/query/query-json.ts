/**
 * How the query endpoint reads keys from URLs and writes values as JSON. Keys arrive as text and are parsed by
 * `keyFormat` (the key serde of the store's input topic, which also picks the key's partition); values are the typed
 * values the store's serdes give, with 64-bit integers (bigint) written as exact JSON numbers.
 */
import { type Serde, Serdes } from '../serde/index.ts'
import { QueryError } from './errors.ts'

export const KEY_FORMATS = ['string', 'long', 'int', 'json'] as const
export type KeyFormat = (typeof KEY_FORMATS)[number]

export interface ParsedKey {
  key: unknown
  serde: Serde<unknown>
}

export function parseKeyFormat(text: string | undefined): KeyFormat {
  const format = text ?? 'string'
  if (!(KEY_FORMATS as readonly string[]).includes(format)) {
    throw new QueryError(
      'STREAMLANE_QUERY_REQUEST_INVALID',
      `keyFormat ${format} is not one of ${KEY_FORMATS.join(', ')}`
    )
  }
  return format as KeyFormat
}

export function parseKey(text: string, format: KeyFormat): ParsedKey {
  try {
    switch (format) {
      case 'string':
        return { key: text, serde: Serdes.string() as Serde<unknown> }
      case 'long':
        return { key: BigInt(text), serde: Serdes.long() as Serde<unknown> }
      case 'int': {
        const n = Number(text)
        if (!Number.isSafeInteger(n)) throw new Error('not an integer')
        return { key: n, serde: Serdes.int32() as Serde<unknown> }
      }
      case 'json':
        return { key: JSON.parse(text), serde: Serdes.json() }
    }
  } catch (error) {
    throw new QueryError(
      'STREAMLANE_QUERY_REQUEST_INVALID',
      `key ${JSON.stringify(text)} is not a valid ${format} key`,
      {
        cause: error
      }
    )
  }
}

/** JSON text of a query answer; bigints become exact JSON numbers (JSON.rawJSON). */
export function toJson(value: unknown): string {
  const raw = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? raw(v.toString()) : v))
}

/** An optional integer query parameter (window bounds, limit). */
export function integerParam(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback
  const n = Number(text)
  if (!Number.isSafeInteger(n)) {
    throw new QueryError('STREAMLANE_QUERY_REQUEST_INVALID', `${name}=${text} is not an integer`)
  }
  return n
}
