import { GROUP_MEMBER_DEFAULTS } from '../kafka/group/index.ts'
import type { StreamsConfig } from './config.ts'

/** Time for the broker's abort to land once the transaction timeout has passed. */
const ABORT_MARGIN_MS = 15_000

/**
 * How long a member waits for the committed offsets of the tasks it is given. Under exactly-once, an instance
 * killed mid-transaction leaves its offsets pending (UNSTABLE_OFFSET_COMMIT) until the broker aborts that
 * transaction after the transaction timeout; the survivor that takes its tasks must wait at least that long, or it
 * gives up and stops. (Kafka Streams retries such a fetch within task.timeout.ms, 5 minutes.)
 */
export function offsetFetchTimeoutMs(config: Pick<StreamsConfig, 'guarantee' | 'transactionTimeoutMs'>): number {
  const wait = GROUP_MEMBER_DEFAULTS.offsetTimeoutMs
  if (!config.guarantee.exactlyOnce) return wait
  return Math.max(wait, config.transactionTimeoutMs + ABORT_MARGIN_MS)
}
