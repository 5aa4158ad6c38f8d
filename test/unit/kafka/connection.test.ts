import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../../../src/errors.ts'
import { CONNECTION_DEFAULTS, libraryOptions, resolveConnectionOptions } from '../../../src/kafka/connection.ts'

test('defaults are filled in and handed to the client library', () => {
  const resolved = resolveConnectionOptions({ brokers: [' b1:9092', 'b2:9093 '] })
  assert.deepEqual(resolved.brokers, ['b1:9092', 'b2:9093'])
  assert.equal(resolved.connectTimeoutMs, 10_000)
  assert.equal(resolved.requestTimeoutMs, 30_000)
  assert.equal(resolved.clientId, CONNECTION_DEFAULTS.clientId)
  const library = libraryOptions(resolved, 'admin')
  assert.equal(library.clientId, 'streamlane-admin')
  assert.equal(library.connectTimeout, 10_000)
  assert.equal(library.requestTimeout, 30_000)
  assert.equal(library.autocreateTopics, false, 'a typo in a topic name must not create a topic')
  assert.equal(library.tls, undefined)
  assert.equal(library.sasl, undefined)
})

test('TLS and SASL are passed through', () => {
  const resolved = resolveConnectionOptions({
    brokers: ['b:9093'],
    tls: true,
    sasl: { mechanism: 'SCRAM-SHA-512', username: 'app', password: 'secret' }
  })
  const library = libraryOptions(resolved, 'producer')
  assert.deepEqual(library.tls, {}, 'true means TLS with the system CAs')
  assert.deepEqual(library.sasl, { mechanism: 'SCRAM-SHA-512', username: 'app', password: 'secret' })
  const custom = libraryOptions(resolveConnectionOptions({ brokers: ['b:9093'], tls: { servername: 'kafka' } }), 'x')
  assert.deepEqual(custom.tls, { servername: 'kafka' })
})

test('bad options are rejected naming the field', () => {
  const cases: [unknown, string][] = [
    [{ brokers: [] }, 'brokers'],
    [{ brokers: ['no-port'] }, 'brokers'],
    [{ brokers: ['b:1'], connectTimeoutMs: 0 }, 'connectTimeoutMs'],
    [{ brokers: ['b:1'], requestTimeoutMs: -1 }, 'requestTimeoutMs'],
    [{ brokers: ['b:1'], retries: 1.5 }, 'retries'],
    [{ brokers: ['b:1'], sasl: { mechanism: 'GSSAPI', username: 'u', password: 'p' } }, 'sasl.mechanism']
  ]
  for (const [options, field] of cases) {
    assert.throws(
      () => resolveConnectionOptions(options as never, 'kafka.'),
      (e) => e instanceof ConfigError && e.field === `kafka.${field}`,
      field
    )
  }
})
