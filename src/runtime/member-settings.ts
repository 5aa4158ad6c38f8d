import type { StreamsConfig } from './config.ts'
import { offsetFetchTimeoutMs } from './offset-fetch-timeout.ts'

/**
 * What the app's group member takes from the config: its group (the application id), its static membership and its
 * timeouts, the offset fetch's included (longer under exactly-once, see offset-fetch-timeout.ts). Pure, so a unit
 * test sees what the member is given.
 */
export function memberSettings(config: StreamsConfig) {
  return {
    groupId: config.applicationId,
    groupInstanceId: config.groupInstanceId,
    sessionTimeoutMs: config.sessionTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    rebalanceTimeoutMs: config.rebalanceTimeoutMs,
    offsetTimeoutMs: offsetFetchTimeoutMs(config)
  }
}
