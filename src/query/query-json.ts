/**
 * How the query endpoint reads keys from URLs and writes values as JSON. Keys arrive as text and are parsed by
 * `keyFormat` (the key serde of the store's input topic, which also picks the key's partition), or as the key's
 * bytes in base64 (`keyFormat=base64`, read with the store's own key serde); values are the typed values the store's
 * serdes give, with 64-bit integers (bigint) written as exact JSON numbers, or with `format=base64` the bytes the
 * store's serdes make of each key and value (what Kafka holds), for a client without the serdes.
 */
import { type Serde, Serdes } from '../serde/index.ts'
import { QueryError } from './errors.ts'

export const KEY_FORMATS = ['string', 'long', 'int', 'json', 'base64'] as const
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

/** A store's serdes as interactive queries need them for raw bytes (StorePartitioning's). */
export interface StoreSerdes {
  topic: string
  serdes?: { key: Serde<unknown>; value: Serde<unknown> } | undefined
}

/** The store's serdes, or the error that says raw bytes cannot be had for it. */
function serdesOf(store: StoreSerdes, what: string) {
  if (!store.serdes) {
    throw new QueryError('STREAMLANE_QUERY_REQUEST_INVALID', `${what}: this store does not name its serdes`)
  }
  return store.serdes
}

/** `store` is needed for `base64` only: the key's bytes are read with the store's key serde. */
export function parseKey(text: string, format: KeyFormat, store?: StoreSerdes): ParsedKey {
  try {
    switch (format) {
      case 'base64': {
        const { key: serde } = serdesOf(store ?? { topic: '' }, 'keyFormat=base64')
        return { key: serde.deserialize(store!.topic, Buffer.from(text, 'base64')), serde }
      }
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
    if (error instanceof QueryError) throw error
    throw new QueryError(
      'STREAMLANE_QUERY_REQUEST_INVALID',
      `key ${JSON.stringify(text)} is not a valid ${format} key`,
      {
        cause: error
      }
    )
  }
}

export const ANSWER_FORMATS = ['json', 'base64'] as const

/** How an answer writes keys and values: as they are (JSON), or as base64 of the bytes the store's serdes make. */
export interface AnswerEncoding {
  key(key: unknown): unknown
  value(value: unknown): unknown
}

export function answerEncoding(text: string | undefined, store: StoreSerdes): AnswerEncoding {
  const format = text ?? 'json'
  if (format === 'json') return { key: (k) => k, value: (v) => v }
  if (format !== 'base64') {
    throw new QueryError(
      'STREAMLANE_QUERY_REQUEST_INVALID',
      `format ${format} is not one of ${ANSWER_FORMATS.join(', ')}`
    )
  }
  const serdes = serdesOf(store, 'format=base64')
  const bytes = (serde: Serde<unknown>, x: unknown) => {
    const raw = serde.serialize(store.topic, x)
    return raw === null ? null : Buffer.from(raw).toString('base64')
  }
  return { key: (k) => bytes(serdes.key, k), value: (v) => bytes(serdes.value, v) }
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
