import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveConfig } from '../../../src/runtime/config.ts'
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
