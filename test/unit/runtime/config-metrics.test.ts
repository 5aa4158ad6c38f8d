import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../../../src/errors.ts'
import { configFromEnvironment, resolveConfig } from '../../../src/runtime/config.ts'

const base = { applicationId: 'app', bootstrapServers: ['b:9092'] }

test('the metrics endpoint is off by default and listens on loopback unless told otherwise', () => {
  const config = resolveConfig(base)
  assert.equal(config.metricsPort, undefined)
  assert.equal(config.metricsHost, '127.0.0.1')
  assert.equal(resolveConfig({ ...base, metricsPort: 0 }).metricsPort, 0)
})

test('STREAMLANE_METRICS_PORT and STREAMLANE_METRICS_HOST override the module', () => {
  const env = configFromEnvironment({ STREAMLANE_METRICS_PORT: '9464', STREAMLANE_METRICS_HOST: '0.0.0.0' })
  const config = resolveConfig({ ...base, metricsPort: 8080 }, env)
  assert.equal(config.metricsPort, 9464)
  assert.equal(config.metricsHost, '0.0.0.0')
})

test('an invalid metrics port names the field', () => {
  for (const bad of [configFromEnvironment({ STREAMLANE_METRICS_PORT: 'ninety' }), { metricsPort: 70_000 }]) {
    assert.throws(
      () => resolveConfig(base, bad),
      (error: unknown) => error instanceof ConfigError && error.field === 'metricsPort'
    )
  }
})

test('the endpoint token and TLS files, and the scaler report token, come from the environment', () => {
  const env = configFromEnvironment({
    STREAMLANE_METRICS_TOKEN_FILE: '/var/run/secrets/metrics/token',
    STREAMLANE_METRICS_TLS_CERT_FILE: '/tls/tls.crt',
    STREAMLANE_METRICS_TLS_KEY_FILE: '/tls/tls.key',
    STREAMLANE_SCALER_REPORT_TOKEN_FILE: '/var/run/secrets/scaler/token'
  })
  const config = resolveConfig(base, env)
  assert.equal(config.metricsTokenFile, '/var/run/secrets/metrics/token')
  assert.equal(config.metricsTlsCertFile, '/tls/tls.crt')
  assert.equal(config.metricsTlsKeyFile, '/tls/tls.key')
  assert.equal(config.scalerReportTokenFile, '/var/run/secrets/scaler/token')
})
