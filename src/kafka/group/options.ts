import { ConfigError } from '../../errors.ts'
import { type ResolvedConnectionOptions, resolveConnectionOptions } from '../connection.ts'
import type { GroupMemberOptions } from './types.ts'

/** Defaults: Kafka's own for session and heartbeat; a rebalance timeout short enough that a hung member is noticed. */
export const GROUP_MEMBER_DEFAULTS = {
  sessionTimeoutMs: 45_000,
  rebalanceTimeoutMs: 60_000,
  heartbeatIntervalMs: 3_000,
  joinTimeoutMs: 300_000,
  offsetTimeoutMs: 30_000
} as const

/**
 * The heartbeat interval when none is set: Kafka's default ratio (3 s of a 45 s session), at most 3 s. A member learns
 * that a rebalance started only from a heartbeat's answer, so a shorter session timeout (quicker failover) needs
 * quicker heartbeats too, or the survivors of a lost member hear of the rebalance up to 3 s after the broker started it.
 */
export function defaultHeartbeatIntervalMs(sessionTimeoutMs: number): number {
  return Math.max(1, Math.min(GROUP_MEMBER_DEFAULTS.heartbeatIntervalMs, Math.floor(sessionTimeoutMs / 15)))
}

type GroupFields = Omit<GroupMemberOptions, keyof import('../connection.ts').KafkaConnectionOptions>

export type ResolvedGroupMemberOptions = ResolvedConnectionOptions &
  Required<Omit<GroupFields, 'userData' | 'groupInstanceId' | 'onRevoke' | 'onAssigned' | 'onLost'>> &
  Pick<GroupFields, 'userData' | 'onRevoke' | 'onAssigned' | 'onLost'> & {
    groupInstanceId: string | null
  }

function positive(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(field, `must be a positive number of milliseconds, got ${String(value)}`)
  }
  return value
}

/** Fills in defaults and rejects combinations the broker would refuse later with a vaguer message. */
export function resolveGroupMemberOptions(options: GroupMemberOptions): ResolvedGroupMemberOptions {
  const connection = resolveConnectionOptions(options)
  if (!options.groupId) throw new ConfigError('groupId', 'must be a non-empty string')
  if (!Array.isArray(options.topics) || options.topics.length === 0) {
    throw new ConfigError('topics', `group ${options.groupId} must subscribe to at least one topic`)
  }
  if (typeof options.assign !== 'function') throw new ConfigError('assign', 'must be an assignment function')
  if (options.groupInstanceId !== undefined && !options.groupInstanceId) {
    throw new ConfigError('groupInstanceId', 'must be a non-empty string when set (e.g. the pod name)')
  }
  const d = GROUP_MEMBER_DEFAULTS
  const sessionTimeoutMs = positive('sessionTimeoutMs', options.sessionTimeoutMs ?? d.sessionTimeoutMs)
  const rebalanceTimeoutMs = positive('rebalanceTimeoutMs', options.rebalanceTimeoutMs ?? d.rebalanceTimeoutMs)
  const heartbeatIntervalMs = positive(
    'heartbeatIntervalMs',
    options.heartbeatIntervalMs ?? defaultHeartbeatIntervalMs(sessionTimeoutMs)
  )
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new ConfigError(
      'heartbeatIntervalMs',
      `must be below sessionTimeoutMs (${sessionTimeoutMs}), got ${heartbeatIntervalMs}; a third of it is usual`
    )
  }
  return {
    ...connection,
    groupId: options.groupId,
    topics: [...new Set(options.topics)].sort(),
    assign: options.assign,
    userData: options.userData,
    groupInstanceId: options.groupInstanceId ?? null,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    heartbeatIntervalMs,
    joinTimeoutMs: positive('joinTimeoutMs', options.joinTimeoutMs ?? d.joinTimeoutMs),
    offsetTimeoutMs: positive('offsetTimeoutMs', options.offsetTimeoutMs ?? d.offsetTimeoutMs),
    callbackTimeoutMs: positive('callbackTimeoutMs', options.callbackTimeoutMs ?? rebalanceTimeoutMs),
    onRevoke: options.onRevoke,
    onAssigned: options.onAssigned,
    onLost: options.onLost
  }
}
