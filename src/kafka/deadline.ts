import { setTimeout as delay } from 'node:timers/promises'
import type { ConnectionWatch } from './connection.ts'
import { BrokerUnreachableError, type KafkaErrorContext, KafkaTimeoutError, translateKafkaError } from './errors.ts'

/**
 * Deadlines for calls into the client library. The library retries internally with its own counters; these wrappers
 * guarantee that no Streamlane call waits longer than its configured deadline whatever the library does, and that
 * what escapes is a translated Streamlane error.
 */

/** Settles with `work`, or rejects with `onTimeout()` once `ms` passed. */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
    // A late rejection of the abandoned work must not become an unhandled rejection.
    work.catch(() => {})
  }
}

/**
 * Runs one operation against the cluster with a deadline and error translation. When the deadline passes before any
 * broker ever answered, the error says the brokers are unreachable rather than that the call was slow.
 */
export async function runWithDeadline<T>(
  work: () => Promise<T>,
  deadlineMs: number,
  context: KafkaErrorContext & { brokers: string[] },
  watch?: ConnectionWatch
): Promise<T> {
  try {
    return await withDeadline(work(), deadlineMs, () =>
      watch && !watch.everConnected
        ? new BrokerUnreachableError(watch.failedBrokers.length ? watch.failedBrokers : context.brokers, deadlineMs)
        : new KafkaTimeoutError(context.operation, deadlineMs)
    )
  } catch (error) {
    throw translateKafkaError(error, { ...context, deadlineMs })
  }
}

/** Exponential backoff: `base`, doubling per attempt, capped at `max`, with up to 20% jitter against lock-step. */
export function backoffMs(attempt: number, base: number, max: number): number {
  const exponential = Math.min(max, base * 2 ** Math.min(attempt, 20))
  return Math.round(exponential * (0.8 + Math.random() * 0.2))
}

/** A pause that ends early (without throwing) when `signal` aborts, so close() never waits for a backoff. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return
  try {
    await delay(ms, undefined, { signal })
  } catch {
    // aborted: the caller checks its own state
  }
}
