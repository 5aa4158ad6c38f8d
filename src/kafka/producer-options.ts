import { ProduceAcks } from '@platformatic/kafka'
import { ConfigError } from '../errors.ts'
import { type KafkaConnectionOptions, type ResolvedConnectionOptions, resolveConnectionOptions } from './connection.ts'
import type { ProducerRecord } from './types.ts'

/** Producer options with defaults like Java's (idempotent, acks all) and deadlines on every wait. */
export interface ProducerOptions extends KafkaConnectionOptions {
  /** Exactly-once writes per partition (no duplicates on retry). Default true; required for transactions. */
  idempotent?: boolean
  /** Makes the producer transactional. One per process and stable across restarts (e.g. `<app.id>-<pod>`). */
  transactionalId?: string
  /** How long an idle producer waits for more records before sending. Default 5. */
  lingerMs?: number
  /** Bytes queued that trigger a request at once; keep below the broker's `message.max.bytes`. Default 900000. */
  batchSize?: number
  /** Default 'all'; an idempotent producer requires 'all'. */
  acks?: 'all' | 'leader' | 'none'
  compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  /** Deadline of send() / flush() including retries, like Java's `delivery.timeout.ms`. Default 120000. */
  deliveryTimeoutMs?: number
  /** The broker aborts a transaction left open longer than this. Default 60000. */
  transactionTimeoutMs?: number
  /**
   * While it returns true, queued records are not sent (they wait, or `discardUnsent()` drops them); records already
   * on the wire complete. The runtime holds writes while its ownership of the tasks is in doubt.
   */
  holdWhile?: () => boolean
}

export const ACKS = { all: ProduceAcks.ALL, leader: ProduceAcks.LEADER, none: ProduceAcks.NO_RESPONSE } as const

export interface ResolvedProducerOptions extends ResolvedConnectionOptions {
  idempotent: boolean
  transactionalId: string | undefined
  lingerMs: number
  batchSize: number
  acks: keyof typeof ACKS
  compression: NonNullable<ProducerOptions['compression']>
  deliveryTimeoutMs: number
  transactionTimeoutMs: number
  holdWhile: (() => boolean) | undefined
}

export function resolveProducerOptions(options: ProducerOptions): ResolvedProducerOptions {
  const base = resolveConnectionOptions(options)
  const idempotent = options.idempotent ?? true
  const acks = options.acks ?? 'all'
  if (!(acks in ACKS)) throw new ConfigError('acks', `must be 'all', 'leader' or 'none', got ${String(acks)}`)
  if (idempotent && acks !== 'all')
    throw new ConfigError('acks', `an idempotent producer needs acks 'all', got '${acks}'`)
  if (options.transactionalId !== undefined && (!options.transactionalId || !idempotent)) {
    throw new ConfigError('transactionalId', 'must be a non-empty string, and transactions need idempotent: true')
  }
  const positive = (field: string, value: number, min = 1) => {
    if (!Number.isFinite(value) || value < min) throw new ConfigError(field, `must be a number >= ${min}, got ${value}`)
    return value
  }
  return {
    ...base,
    idempotent,
    transactionalId: options.transactionalId,
    lingerMs: positive('lingerMs', options.lingerMs ?? 5, 0),
    batchSize: positive('batchSize', options.batchSize ?? 900_000),
    acks,
    compression: options.compression ?? 'none',
    deliveryTimeoutMs: positive('deliveryTimeoutMs', options.deliveryTimeoutMs ?? 120_000),
    transactionTimeoutMs: positive('transactionTimeoutMs', options.transactionTimeoutMs ?? 60_000),
    holdWhile: options.holdWhile
  }
}

/** Rough bytes of a record on the wire; only used to size requests. */
export function recordSize(r: ProducerRecord): number {
  let size = 24 + (r.key?.length ?? 0) + (r.value?.length ?? 0)
  for (const [k, v] of r.headers ?? []) size += k.length + v.length + 4
  return size
}
