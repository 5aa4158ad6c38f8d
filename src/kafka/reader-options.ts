import { ConfigError } from '../errors.ts'
import { type KafkaConnectionOptions, resolveConnectionOptions } from './connection.ts'
import type { IsolationLevel } from './types.ts'

/** Options of the partition reader, with defaults that suit both restoration and reading input partitions. */
export interface PartitionReaderOptions extends KafkaConnectionOptions {
  /** Default `read_committed`: records of aborted or open transactions are never returned. */
  isolation?: IsolationLevel
  /** What a position outside the log (deleted by retention, truncated) becomes. Default `earliest`. */
  offsetReset?: 'earliest' | 'latest' | 'error'
  /** How long the broker holds a fetch while it has nothing new. Default 500. */
  fetchMaxWaitMs?: number
  fetchMinBytes?: number
  /** Bytes per fetch response (per broker). Default 52428800 (50 MiB). */
  fetchMaxBytes?: number
  /**
   * Bytes per partition per fetch. Default 1048576 (1 MiB, Java's default). Larger is slower, not faster: the client
   * library's response buffer costs more per record the bigger the response (measured: 8 MiB reads at a third of
   * the speed of 1 MiB, see bench/results/client.md).
   */
  partitionMaxBytes?: number
  /** Records per poll(). Default 10000. */
  maxPollRecords?: number
  /** Copy record bytes out of network buffers (for callers that keep many records). Default false. */
  copyBuffers?: boolean
  /** A partition that cannot be fetched for this long (leader gone, broker down) makes poll() fail. Default 120000. */
  unavailableTimeoutMs?: number
}

export function resolveReaderOptions(options: PartitionReaderOptions) {
  const base = resolveConnectionOptions(options)
  const number = (field: string, value: number, min: number) => {
    if (!Number.isFinite(value) || value < min) throw new ConfigError(field, `must be a number >= ${min}, got ${value}`)
    return value
  }
  const isolation = options.isolation ?? 'read_committed'
  if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') {
    throw new ConfigError('isolation', `must be read_committed or read_uncommitted, got ${String(isolation)}`)
  }
  const offsetReset = options.offsetReset ?? 'earliest'
  if (!['earliest', 'latest', 'error'].includes(offsetReset)) {
    throw new ConfigError('offsetReset', `must be earliest, latest or error, got ${String(offsetReset)}`)
  }
  const fetchMaxWaitMs = number('fetchMaxWaitMs', options.fetchMaxWaitMs ?? 500, 0)
  if (fetchMaxWaitMs >= base.requestTimeoutMs) {
    throw new ConfigError(
      'fetchMaxWaitMs',
      `must be below requestTimeoutMs (${base.requestTimeoutMs}), got ${fetchMaxWaitMs}`
    )
  }
  return {
    ...base,
    isolation,
    offsetReset,
    fetchMaxWaitMs,
    fetchMinBytes: number('fetchMinBytes', options.fetchMinBytes ?? 1, 1),
    fetchMaxBytes: number('fetchMaxBytes', options.fetchMaxBytes ?? 52_428_800, 1),
    partitionMaxBytes: number('partitionMaxBytes', options.partitionMaxBytes ?? 1_048_576, 1),
    maxPollRecords: number('maxPollRecords', options.maxPollRecords ?? 10_000, 1),
    copyBuffers: options.copyBuffers ?? false,
    unavailableTimeoutMs: number('unavailableTimeoutMs', options.unavailableTimeoutMs ?? 120_000, 1)
  }
}

export type ResolvedReaderOptions = ReturnType<typeof resolveReaderOptions>
