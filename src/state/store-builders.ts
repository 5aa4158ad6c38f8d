import type { Serde } from '../serde/index.ts'
import type { StateStore, StoreBuilder } from '../topology/index.ts'
import { identityCodec } from './bytes-store.ts'
import { InvalidStoreArgumentError } from './errors.ts'
import { LayeredKeyValueStore } from './key-value-store.ts'
import { defaultSegmentInterval, plainValueCodec, Segments, segmentedKeyCodec } from './segments.ts'
import { LayeredSessionStore, SESSION_SUFFIX_BYTES } from './session-store.ts'
import type {
  KeyValueStore,
  SessionStore,
  TimestampedKeyValueStore,
  TimestampedWindowStore,
  WindowStore
} from './stores.ts'
import { plainFormat, timestampedFormat, timestampedValueCodec } from './value-formats.ts'
import { LayeredWindowStore, WINDOW_SUFFIX_BYTES } from './window-store.ts'

/**
 * Store builders: what `Topology.addStateStore` and the DSL take. Each `build()` makes one task's instance.
 *
 * Defaults: persistent (LMDB), logged to `<app.id>-<name>-changelog`, NOT cached. Caching is opt-in here, as in
 * Kafka Streams' `Stores` builders, because a Processor API user who writes a store expects the write downstream
 * at once; the DSL turns it on for its materialized stores.
 */
export interface StoreOptions<K, V> {
  /** Also the changelog's middle part: letters, digits, `.`, `_` and `-`. */
  readonly name: string
  readonly keySerde: Serde<K>
  readonly valueSerde: Serde<V>
  /** LMDB under the task directory (default) or the heap. */
  readonly persistent?: boolean
  /** Log to the changelog (default true); an object also sets topic configs over the defaults. */
  readonly logging?: boolean | Readonly<Record<string, string>>
  /** Put the store behind the task's record cache (default false). */
  readonly caching?: boolean
}

export interface WindowStoreOptions<K, V> extends StoreOptions<K, V> {
  readonly windowSizeMs: number
  /** How long windows stay, counted from their start; at least the window size (plus grace, for the DSL). */
  readonly retentionMs: number
  /** Keep every put, even for equal key and window (stream-stream joins). Default false. */
  readonly retainDuplicates?: boolean
  /** Default: half the retention, at least a minute. */
  readonly segmentIntervalMs?: number
}

export interface SessionStoreOptions<K, AGG> extends StoreOptions<K, AGG> {
  /** How long sessions stay, counted from their end; at least the inactivity gap (plus grace). */
  readonly retentionMs: number
  readonly segmentIntervalMs?: number
}

/** What a builder makes: lets the test driver and interactive queries pick the right typed view of a store. */
export type StoreKind = 'key-value' | 'timestamped-key-value' | 'window' | 'timestamped-window' | 'session'

/** A `StoreBuilder` that also says how it stores, for `describe()` and the runtime. */
export interface StreamlaneStoreBuilder<S extends StateStore> extends StoreBuilder<S> {
  readonly kind: StoreKind
  readonly persistent: boolean
  readonly cachingEnabled: boolean
  /** For window and session stores: how long entries stay; the changelog keeps them a day longer. */
  readonly retentionMs: number | null
  /** The key's and the (plain) value's serdes: interactive queries answer raw bytes with them. */
  readonly serdes: { readonly key: Serde<unknown>; readonly value: Serde<unknown> }
}

/** Kafka Streams' windowstore.changelog.additional.retention.ms default: the changelog outlives the store by a day. */
export const CHANGELOG_ADDITIONAL_RETENTION_MS = 86_400_000

const NAME = /^[a-zA-Z0-9._-]+$/

function validate(options: StoreOptions<unknown, unknown>): void {
  if (!NAME.test(options.name)) {
    throw new InvalidStoreArgumentError(options.name, 'a store name may hold only letters, digits, ".", "_" and "-"')
  }
}

function positive(store: string, field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidStoreArgumentError(store, `${field} must be a positive integer (ms), got ${value}`)
  }
}

function builder<S extends StateStore>(
  kind: StoreKind,
  options: StoreOptions<unknown, unknown>,
  defaults: Record<string, string>,
  retentionMs: number | null,
  build: (persistent: boolean, logging: boolean, caching: boolean) => S
): StreamlaneStoreBuilder<S> {
  validate(options)
  const persistent = options.persistent ?? true
  const logging = options.logging ?? true
  const caching = options.caching ?? false
  const overrides = typeof logging === 'object' ? logging : {}
  return {
    kind,
    name: options.name,
    loggingEnabled: logging !== false,
    changelogConfig: Object.freeze({ ...defaults, ...overrides }),
    persistent,
    cachingEnabled: caching,
    retentionMs,
    serdes: { key: options.keySerde, value: options.valueSerde },
    build: () => build(persistent, logging !== false, caching)
  }
}

export function keyValueStoreBuilder<K, V>(options: StoreOptions<K, V>): StreamlaneStoreBuilder<KeyValueStore<K, V>> {
  return builder('key-value', options, { 'cleanup.policy': 'compact' }, null, (persistent, logging, caching) => {
    return new LayeredKeyValueStore<K, V>({
      name: options.name,
      persistent,
      logging,
      caching,
      codec: identityCodec,
      layout: 'key-value/1',
      keySerde: options.keySerde,
      valueFormat: plainFormat(options.valueSerde)
    })
  })
}

export function timestampedKeyValueStoreBuilder<K, V>(
  options: StoreOptions<K, V>
): StreamlaneStoreBuilder<TimestampedKeyValueStore<K, V>> {
  return builder(
    'timestamped-key-value',
    options,
    { 'cleanup.policy': 'compact' },
    null,
    (persistent, logging, caching) => {
      return new LayeredKeyValueStore({
        name: options.name,
        persistent,
        logging,
        caching,
        codec: timestampedValueCodec(identityCodec),
        layout: 'timestamped-key-value/1',
        keySerde: options.keySerde,
        valueFormat: timestampedFormat(options.valueSerde)
      })
    }
  )
}

function windowedConfig(retentionMs: number): Record<string, string> {
  return { 'cleanup.policy': 'compact,delete', 'retention.ms': String(retentionMs + CHANGELOG_ADDITIONAL_RETENTION_MS) }
}

function windowBuilder<K, V, W extends StateStore>(
  options: WindowStoreOptions<K, V>,
  timestamped: boolean
): StreamlaneStoreBuilder<W> {
  positive(options.name, 'windowSizeMs', options.windowSizeMs)
  positive(options.name, 'retentionMs', options.retentionMs)
  if (options.retentionMs < options.windowSizeMs) {
    throw new InvalidStoreArgumentError(
      options.name,
      `retentionMs (${options.retentionMs}) must be at least windowSizeMs (${options.windowSizeMs})`
    )
  }
  const interval = options.segmentIntervalMs ?? defaultSegmentInterval(options.retentionMs)
  positive(options.name, 'segmentIntervalMs', interval)
  const kind = timestamped ? 'timestamped-window' : 'window'
  return builder(
    kind,
    options,
    windowedConfig(options.retentionMs),
    options.retentionMs,
    (persistent, logging, caching) => {
      const segments = new Segments(interval, options.retentionMs)
      const keys = segmentedKeyCodec(segments, WINDOW_SUFFIX_BYTES)
      const common = {
        name: options.name,
        persistent,
        logging,
        caching,
        keySerde: options.keySerde,
        windowSizeMs: options.windowSizeMs,
        retentionMs: options.retentionMs,
        retainDuplicates: options.retainDuplicates ?? false,
        segments
      }
      const store = timestamped
        ? new LayeredWindowStore({
            ...common,
            codec: timestampedValueCodec(keys),
            layout: `timestamped-window/1 segment=${interval}`,
            valueFormat: timestampedFormat(options.valueSerde)
          })
        : new LayeredWindowStore({
            ...common,
            codec: { ...keys, ...plainValueCodec },
            layout: `window/1 segment=${interval}`,
            valueFormat: plainFormat(options.valueSerde)
          })
      return store as unknown as W
    }
  )
}

export function windowStoreBuilder<K, V>(options: WindowStoreOptions<K, V>): StreamlaneStoreBuilder<WindowStore<K, V>> {
  return windowBuilder<K, V, WindowStore<K, V>>(options, false)
}

export function timestampedWindowStoreBuilder<K, V>(
  options: WindowStoreOptions<K, V>
): StreamlaneStoreBuilder<TimestampedWindowStore<K, V>> {
  return windowBuilder<K, V, TimestampedWindowStore<K, V>>(options, true)
}

export function sessionStoreBuilder<K, AGG>(
  options: SessionStoreOptions<K, AGG>
): StreamlaneStoreBuilder<SessionStore<K, AGG>> {
  positive(options.name, 'retentionMs', options.retentionMs)
  const interval = options.segmentIntervalMs ?? defaultSegmentInterval(options.retentionMs)
  positive(options.name, 'segmentIntervalMs', interval)
  return builder(
    'session',
    options,
    windowedConfig(options.retentionMs),
    options.retentionMs,
    (persistent, logging, caching) => {
      const segments = new Segments(interval, options.retentionMs)
      return new LayeredSessionStore<K, AGG>({
        name: options.name,
        persistent,
        logging,
        caching,
        codec: { ...segmentedKeyCodec(segments, SESSION_SUFFIX_BYTES), ...plainValueCodec },
        layout: `session/1 segment=${interval}`,
        keySerde: options.keySerde,
        valueFormat: plainFormat(options.valueSerde),
        retentionMs: options.retentionMs,
        segments
      })
    }
  )
}

/** The builders in one place, Kafka Streams' `Stores` style: `Stores.keyValueStoreBuilder({...})`. */
export const Stores = {
  keyValueStoreBuilder,
  timestampedKeyValueStoreBuilder,
  windowStoreBuilder,
  timestampedWindowStoreBuilder,
  sessionStoreBuilder
} as const
