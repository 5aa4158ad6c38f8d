import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import type { BaseOptions } from '@platformatic/kafka'
import { ConfigError } from '../errors.ts'

/** How to reach the cluster; shared by the admin, producers, readers and group membership. */
export interface KafkaConnectionOptions {
  /** Bootstrap servers, `host:port`. */
  brokers: string[]
  clientId?: string
  /** Deadline of one TCP (+ TLS + SASL) connection attempt. Default 10000. */
  connectTimeoutMs?: number
  /**
   * Deadline of one request, and of one whole admin call including its retries: no admin call takes longer.
   * Default 30000.
   */
  requestTimeoutMs?: number
  /** How often the client retries a retriable failure (broker unreachable, leader or coordinator moved). Default 3. */
  retries?: number
  /** Pause between those retries. Default 250. */
  retryDelayMs?: number
  sasl?: SaslOptions
  /** `true` for TLS with the system's CAs, or Node's `tls.connect` options (ca, cert, key, servername...). */
  tls?: boolean | object
}

/** A secret read when a connection authenticates, so a rotated password file or a refreshed token is picked up. */
export type SecretProvider = () => string | Promise<string>

/** SASL: PLAIN and SCRAM take a username and password, OAUTHBEARER a token (or a function that returns a fresh one). */
export type SaslOptions =
  | { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string | SecretProvider }
  | { mechanism: 'OAUTHBEARER'; token: string | SecretProvider }

/** The part of the connection options that authenticates and encrypts: what `security` settings resolve to. */
export type KafkaConnectionSecurity = Pick<KafkaConnectionOptions, 'sasl' | 'tls'>

export const CONNECTION_DEFAULTS = {
  clientId: 'streamlane',
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  retries: 3,
  retryDelayMs: 250,
  metadataMaxAgeMs: 5_000
} as const

export interface ResolvedConnectionOptions {
  brokers: string[]
  clientId: string
  connectTimeoutMs: number
  requestTimeoutMs: number
  retries: number
  retryDelayMs: number
  metadataMaxAgeMs: number
  sasl: KafkaConnectionOptions['sasl']
  tls: TlsConnectionOptions | undefined
}

const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']

function milliseconds(field: string, value: number, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ConfigError(
      field,
      `must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds, got ${String(value)}`
    )
  }
  return value
}

/** Fills in defaults and rejects bad values with an error naming the option (prefix e.g. `kafka.`). */
export function resolveConnectionOptions(options: KafkaConnectionOptions, prefix = ''): ResolvedConnectionOptions {
  const d = CONNECTION_DEFAULTS
  if (!Array.isArray(options?.brokers) || options.brokers.length === 0) {
    throw new ConfigError(`${prefix}brokers`, 'must list at least one bootstrap server (host:port)')
  }
  for (const broker of options.brokers) {
    if (typeof broker !== 'string' || !/^[^\s:]+:\d+$/.test(broker.trim())) {
      throw new ConfigError(`${prefix}brokers`, `${JSON.stringify(broker)} is not host:port`)
    }
  }
  const retries = options.retries ?? d.retries
  if (!Number.isInteger(retries) || retries < 0) {
    throw new ConfigError(`${prefix}retries`, `must be a non-negative integer, got ${String(retries)}`)
  }
  if (options.sasl) {
    if (!SASL_MECHANISMS.includes(options.sasl.mechanism)) {
      throw new ConfigError(
        `${prefix}sasl.mechanism`,
        `must be one of ${SASL_MECHANISMS.join(', ')}, got ${options.sasl.mechanism}`
      )
    }
    if (options.sasl.mechanism === 'OAUTHBEARER') {
      if (!options.sasl.token) throw new ConfigError(`${prefix}sasl.token`, 'must be set for OAUTHBEARER')
    } else if (!options.sasl.username) throw new ConfigError(`${prefix}sasl.username`, 'must be set')
  }
  const tls = options.tls === true ? {} : options.tls ? (options.tls as TlsConnectionOptions) : undefined
  return {
    brokers: options.brokers.map((b) => b.trim()),
    clientId: options.clientId ?? d.clientId,
    connectTimeoutMs: milliseconds(`${prefix}connectTimeoutMs`, options.connectTimeoutMs ?? d.connectTimeoutMs),
    requestTimeoutMs: milliseconds(`${prefix}requestTimeoutMs`, options.requestTimeoutMs ?? d.requestTimeoutMs),
    retries,
    retryDelayMs: milliseconds(`${prefix}retryDelayMs`, options.retryDelayMs ?? d.retryDelayMs, true),
    // How long cached leaders and partition counts are trusted; a leader move is noticed sooner by the error it causes.
    metadataMaxAgeMs: d.metadataMaxAgeMs,
    sasl: options.sasl,
    tls
  }
}

/** The client library's options for one client (admin, producer, reader) built from ours. */
export function libraryOptions(resolved: ResolvedConnectionOptions, clientIdSuffix: string): BaseOptions {
  return {
    clientId: `${resolved.clientId}-${clientIdSuffix}`,
    bootstrapBrokers: resolved.brokers,
    connectTimeout: resolved.connectTimeoutMs,
    requestTimeout: resolved.requestTimeoutMs,
    // `timeout` is what the library sends as the broker-side timeout of CreateTopics / DeleteTopics / Produce.
    timeout: resolved.requestTimeoutMs,
    retries: resolved.retries,
    retryDelay: resolved.retryDelayMs,
    metadataMaxAge: resolved.metadataMaxAgeMs,
    autocreateTopics: false,
    ...(resolved.tls ? { tls: resolved.tls } : {}),
    ...(resolved.sasl ? { sasl: { ...resolved.sasl } } : {})
  }
}

/** Who a connection authenticates as, for error messages: the mechanism and the user (never the secret). */
export function saslIdentity(resolved: { sasl?: SaslOptions | undefined }): { mechanism?: string; username?: string } {
  const sasl = resolved.sasl
  if (!sasl) return {}
  return sasl.mechanism === 'OAUTHBEARER'
    ? { mechanism: sasl.mechanism }
    : { mechanism: sasl.mechanism, username: sasl.username }
}

/** A string naming a library broker for messages. */
export function brokerName(broker: { host: string; port: number } | undefined): string {
  return broker ? `${broker.host}:${broker.port}` : 'unknown broker'
}

interface PoolEventSource {
  on(event: string, listener: (payload: { broker?: { host: string; port: number } }) => void): unknown
}

/**
 * Watches a library client's connections so a missed deadline can say whether the cluster was reachable at all:
 * "broker unreachable" and "request too slow" need different fixes.
 */
export class ConnectionWatch {
  #connected = false
  #failed = new Set<string>()

  constructor(client: PoolEventSource) {
    client.on('client:broker:connect', () => {
      this.#connected = true
    })
    client.on('client:broker:failed', (payload) => {
      if (payload?.broker) this.#failed.add(brokerName(payload.broker))
    })
  }

  /** Whether any connection to the cluster succeeded since the client was created. */
  get everConnected(): boolean {
    return this.#connected
  }

  get failedBrokers(): string[] {
    return [...this.#failed]
  }
}
