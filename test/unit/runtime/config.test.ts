import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../../../src/errors.ts'
import { configFromEnvironment, resolveConfig } from '../../../src/runtime/config.ts'

test('defaults are filled in and commit interval follows the guarantee', () => {
  const alo = resolveConfig({ applicationId: 'app', bootstrapServers: ['b:9092'] })
  assert.equal(alo.commitIntervalMs, 5_000)
  assert.equal(alo.sessionTimeoutMs, 45_000)
  const eos = resolveConfig({
    applicationId: 'app',
    bootstrapServers: ['b:9092'],
    processingGuarantee: 'exactly_once_v2'
  })
  assert.equal(eos.commitIntervalMs, 100)
  assert.deepEqual(alo.guarantee, { exactlyOnce: false, isolation: 'read_uncommitted', defaultCommitIntervalMs: 5_000 })
  assert.deepEqual(eos.guarantee, { exactlyOnce: true, isolation: 'read_committed', defaultCommitIntervalMs: 100 })
})

test('the heartbeat interval follows the session timeout unless set (a fifteenth, at most 3 s)', () => {
  const base = { applicationId: 'app', bootstrapServers: ['b:9092'] }
  assert.equal(resolveConfig(base).heartbeatIntervalMs, 3_000)
  assert.equal(resolveConfig({ ...base, sessionTimeoutMs: 6_000 }).heartbeatIntervalMs, 400)
  assert.equal(resolveConfig({ ...base, sessionTimeoutMs: 10_000 }).heartbeatIntervalMs, 666)
  assert.equal(
    resolveConfig({ ...base, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 }).heartbeatIntervalMs,
    1_000
  )
  const resolved = resolveConfig({ ...base, sessionTimeoutMs: 6_000 })
  assert.equal(resolveConfig(resolved).heartbeatIntervalMs, 400)
})

test('a resolved config resolves again to the same config (the CLI resolves, then the app)', () => {
  const once = resolveConfig({
    applicationId: 'app',
    bootstrapServers: ['b:9092'],
    processingGuarantee: 'exactly_once_v2'
  })
  assert.deepEqual(resolveConfig(once), once)
  const switched = resolveConfig(once, { processingGuarantee: 'at_least_once' })
  assert.equal(switched.guarantee.exactlyOnce, false)
})

test('an invalid option is rejected with an error naming the field', () => {
  assert.throws(
    () => resolveConfig({ applicationId: 'app', bootstrapServers: ['b:9092'], sessionTimeoutMs: -5 }),
    (error: unknown) =>
      error instanceof ConfigError && error.field === 'sessionTimeoutMs' && /sessionTimeoutMs/.test(error.message)
  )
  assert.throws(
    () => resolveConfig({ applicationId: 'my app', bootstrapServers: ['b:9092'] }),
    (error: unknown) => error instanceof ConfigError && error.field === 'applicationId'
  )
})

test('an unknown option is rejected rather than silently ignored', () => {
  assert.throws(
    () => resolveConfig({ applicationId: 'app', bootstrapServers: ['b:9092'], comitIntervalMs: 5 } as never),
    (error: unknown) => error instanceof ConfigError && /comitIntervalMs/.test(error.message)
  )
})

test('environment variables override the module configuration', () => {
  const env = configFromEnvironment({
    KAFKA_BROKERS: 'x:1, y:2',
    STREAMLANE_COMMIT_INTERVAL_MS: '250',
    STREAMLANE_LEAVE_GROUP_ON_CLOSE: 'true'
  })
  const config = resolveConfig({ applicationId: 'app', bootstrapServers: ['b:9092'] }, env)
  assert.deepEqual(config.bootstrapServers, ['x:1', 'y:2'])
  assert.equal(config.commitIntervalMs, 250)
  assert.equal(config.leaveGroupOnClose, true)
})

test('a missing required option names it', () => {
  assert.throws(
    () => resolveConfig({ applicationId: 'app' }),
    (error: unknown) => error instanceof ConfigError && error.field === 'bootstrapServers'
  )
})
