import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveConfig } from '../../../src/runtime/config.ts'
import { memberSettings } from '../../../src/runtime/member-settings.ts'
import { offsetFetchTimeoutMs } from '../../../src/runtime/offset-fetch-timeout.ts'

test('under exactly-once the offset fetch outlasts the transaction timeout of a killed instance', () => {
  const config = resolveConfig({
    applicationId: 'a',
    bootstrapServers: ['b:9092'],
    processingGuarantee: 'exactly_once_v2'
  })
  assert.ok(offsetFetchTimeoutMs(config) > config.transactionTimeoutMs)
  const long = resolveConfig({
    applicationId: 'a',
    bootstrapServers: ['b:9092'],
    processingGuarantee: 'exactly_once_v2',
    transactionTimeoutMs: 120_000
  })
  assert.ok(offsetFetchTimeoutMs(long) > 120_000)
})

test('under at-least-once nothing is pending: the group default', () => {
  const config = resolveConfig({ applicationId: 'a', bootstrapServers: ['b:9092'] })
  assert.equal(offsetFetchTimeoutMs(config), 30_000)
})

test("the app's group member is given that timeout, and the config's group and session settings", () => {
  const config = resolveConfig({
    applicationId: 'orders',
    bootstrapServers: ['b:9092'],
    processingGuarantee: 'exactly_once_v2',
    transactionTimeoutMs: 120_000,
    groupInstanceId: 'pod-1'
  })
  assert.deepEqual(memberSettings(config), {
    groupId: 'orders',
    groupInstanceId: 'pod-1',
    sessionTimeoutMs: config.sessionTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    rebalanceTimeoutMs: config.rebalanceTimeoutMs,
    offsetTimeoutMs: offsetFetchTimeoutMs(config)
  })
  assert.ok(memberSettings(config).offsetTimeoutMs > 120_000)
})
