import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../../../src/errors.ts'
import { GROUP_MEMBER_DEFAULTS, resolveGroupMemberOptions } from '../../../src/kafka/group/options.ts'

const base = { brokers: ['127.0.0.1:9092'], groupId: 'g', topics: ['t'], assign: () => new Map() }

test('defaults are filled in and the callback timeout follows the rebalance timeout', () => {
  const resolved = resolveGroupMemberOptions({ ...base, rebalanceTimeoutMs: 20_000 })
  assert.equal(resolved.sessionTimeoutMs, GROUP_MEMBER_DEFAULTS.sessionTimeoutMs)
  assert.equal(resolved.heartbeatIntervalMs, GROUP_MEMBER_DEFAULTS.heartbeatIntervalMs)
  assert.equal(resolved.callbackTimeoutMs, 20_000)
  assert.equal(resolved.groupInstanceId, null)
})

test('without a heartbeat interval, a fifteenth of the session timeout, at most the 3 s default', () => {
  assert.equal(resolveGroupMemberOptions({ ...base, sessionTimeoutMs: 6_000 }).heartbeatIntervalMs, 400)
  assert.equal(resolveGroupMemberOptions({ ...base, sessionTimeoutMs: 300_000 }).heartbeatIntervalMs, 3_000)
  assert.equal(
    resolveGroupMemberOptions({ ...base, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 2_000 }).heartbeatIntervalMs,
    2_000
  )
})

test('bad options are rejected naming the field', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ heartbeatIntervalMs: 5_000, sessionTimeoutMs: 5_000 }, 'heartbeatIntervalMs'],
    [{ sessionTimeoutMs: -1 }, 'sessionTimeoutMs'],
    [{ topics: [] }, 'topics'],
    [{ groupId: '' }, 'groupId'],
    [{ groupInstanceId: '' }, 'groupInstanceId'],
    [{ brokers: [] }, 'brokers']
  ]
  for (const [override, field] of cases) {
    assert.throws(
      () => resolveGroupMemberOptions({ ...base, ...override } as Parameters<typeof resolveGroupMemberOptions>[0]),
      (error: unknown) => error instanceof ConfigError && error.field === field
    )
  }
})
