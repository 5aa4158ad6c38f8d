import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Command } from 'commander'
import { addKafkaSecurityOptions, kafkaSecurityFromOptions } from '../../../src/cli/kafka-security-options.ts'
import { ConfigError } from '../../../src/errors.ts'
import { configFromEnvironment, resolveConfig } from '../../../src/runtime/config.ts'
import {
  kafkaConnectionSecurity,
  kafkaSecurityFromEnvironment,
  parseKafkaSecurity
} from '../../../src/runtime/kafka-security.ts'

const base = { applicationId: 'app', bootstrapServers: ['b:9093'] }
const dir = mkdtempSync(join(tmpdir(), 'streamlane-security-'))
const file = (name: string, content: string) => {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

function rejects(security: unknown, field: string, message: RegExp): void {
  assert.throws(
    () => resolveConfig({ ...base, security } as never),
    (error: unknown) => error instanceof ConfigError && error.field === field && message.test(error.message),
    `expected an error naming ${field}`
  )
}

test('plaintext is the default; no TLS and no SASL options are produced', () => {
  assert.equal(resolveConfig(base).security, undefined)
  assert.deepEqual(kafkaConnectionSecurity(parseKafkaSecurity(undefined)), {})
})

test('inconsistent security settings are rejected with an error naming the field', () => {
  rejects({ securityProtocol: 'SASL_SSL' }, 'security.sasl', /required when securityProtocol is SASL_SSL/)
  rejects(
    { sasl: { mechanism: 'PLAIN', username: 'u', password: 'p' } },
    'security.securityProtocol',
    /must be SASL_SSL or SASL_PLAINTEXT when sasl is set \(got PLAINTEXT\)/
  )
  rejects(
    {
      securityProtocol: 'SASL_PLAINTEXT',
      ssl: { caFile: '/ca' },
      sasl: { mechanism: 'PLAIN', username: 'u', password: 'p' }
    },
    'security.securityProtocol',
    /SSL or SASL_SSL when ssl is set/
  )
  rejects({ securityProtocol: 'TLS' }, 'security.securityProtocol', /PLAINTEXT/)
  rejects({ securityProtocol: 'SASL_SSL', sasl: { mechanism: 'GSSAPI' } }, 'security.sasl.mechanism', /SCRAM-SHA-512/)
  rejects(
    { securityProtocol: 'SASL_SSL', sasl: { mechanism: 'SCRAM-SHA-256', password: 'p' } },
    'security.sasl.username',
    /required for SCRAM-SHA-256/
  )
  rejects(
    {
      securityProtocol: 'SASL_SSL',
      sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p', passwordFile: '/x' }
    },
    'security.sasl.password',
    /exactly one of password and passwordFile/
  )
  rejects(
    { securityProtocol: 'SASL_SSL', sasl: { mechanism: 'OAUTHBEARER', username: 'u' } },
    'security.sasl.username',
    /does not apply to OAUTHBEARER/
  )
  rejects(
    { securityProtocol: 'SASL_SSL', sasl: { mechanism: 'OAUTHBEARER' } },
    'security.sasl.oauthBearerTokenFile',
    /exactly one of oauthBearerTokenFile and oauthBearerTokenProvider/
  )
  rejects({ securityProtocol: 'SSL', ssl: { certFile: '/c' } }, 'security.ssl.keyFile', /go together/)
  rejects({ securityProtocol: 'SSL', ssl: { truststore: '/t' } }, 'security.ssl', /truststore/)
})

test('certificates and secrets are read from files; a missing file names the field and the path', () => {
  const ca = file('ca.pem', 'CA PEM\n')
  const passwordFile = file('password', 'from-a-secret\n')
  const security = parseKafkaSecurity({
    securityProtocol: 'SASL_SSL',
    sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', passwordFile },
    ssl: { caFile: ca }
  })
  const options = kafkaConnectionSecurity(security)
  assert.deepEqual(options.tls, { ca: 'CA PEM' })
  assert.ok(options.sasl && options.sasl.mechanism === 'SCRAM-SHA-512')
  assert.equal(options.sasl.username, 'alice')
  // Read at every new connection, so a rotated Secret is used without a restart; the trailing newline is not part.
  assert.equal(typeof options.sasl.password, 'function')
  assert.equal((options.sasl.password as () => string)(), 'from-a-secret')
  writeFileSync(passwordFile, 'rotated')
  assert.equal((options.sasl.password as () => string)(), 'rotated')

  assert.throws(
    () =>
      kafkaConnectionSecurity(
        parseKafkaSecurity({ securityProtocol: 'SSL', ssl: { caFile: join(dir, 'absent.pem') } })
      ),
    (error: unknown) =>
      error instanceof ConfigError && error.field === 'security.ssl.caFile' && /absent\.pem: ENOENT/.test(error.message)
  )
  const noHostCheck = kafkaConnectionSecurity(
    parseKafkaSecurity({ securityProtocol: 'SSL', ssl: { endpointIdentification: false } })
  )
  assert.equal(typeof (noHostCheck.tls as { checkServerIdentity?: unknown }).checkServerIdentity, 'function')
})

test('OAUTHBEARER takes a token provider (in code) or a token file re-read at each authentication', async () => {
  let calls = 0
  const provider = async () => `token-${++calls}`
  const fromCode = kafkaConnectionSecurity(
    parseKafkaSecurity({
      securityProtocol: 'SASL_SSL',
      sasl: { mechanism: 'OAUTHBEARER', oauthBearerTokenProvider: provider }
    })
  )
  assert.ok(fromCode.sasl?.mechanism === 'OAUTHBEARER')
  assert.equal(await (fromCode.sasl.token as () => Promise<string>)(), 'token-1')
  const tokenFile = file('token', 'jwt-1')
  const fromFile = kafkaConnectionSecurity(
    parseKafkaSecurity({
      securityProtocol: 'SASL_SSL',
      sasl: { mechanism: 'OAUTHBEARER', oauthBearerTokenFile: tokenFile }
    })
  )
  assert.ok(fromFile.sasl?.mechanism === 'OAUTHBEARER')
  writeFileSync(tokenFile, 'jwt-2')
  assert.equal((fromFile.sasl.token as () => string)(), 'jwt-2')
})

test('KAFKA_* environment variables add to the module config field by field', () => {
  const env = {
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_PASSWORD_FILE: '/var/run/secrets/kafka/password',
    KAFKA_SSL_CA_FILE: '/var/run/secrets/kafka/ca.crt',
    KAFKA_SSL_ENDPOINT_IDENTIFICATION: 'false'
  }
  const config = resolveConfig(
    { ...base, security: { sasl: { mechanism: 'SCRAM-SHA-256', username: 'orders-app' } } },
    configFromEnvironment(env)
  )
  assert.deepEqual(config.security, {
    securityProtocol: 'SASL_SSL',
    sasl: { mechanism: 'SCRAM-SHA-256', username: 'orders-app', passwordFile: '/var/run/secrets/kafka/password' },
    ssl: { caFile: '/var/run/secrets/kafka/ca.crt', endpointIdentification: false }
  })
  assert.equal(kafkaSecurityFromEnvironment({}), undefined)
  assert.throws(
    () => kafkaSecurityFromEnvironment({ KAFKA_SSL_ENDPOINT_IDENTIFICATION: 'maybe' }),
    (error: unknown) => error instanceof ConfigError && error.field === 'KAFKA_SSL_ENDPOINT_IDENTIFICATION'
  )
})

test('the scaler and autoscaler flags map onto the same settings and name the flag in errors', () => {
  const command = addKafkaSecurityOptions(new Command().exitOverride())
  const passwordFile = file('cli-password', 'pw')
  command.parse(
    [
      '--security-protocol',
      'SASL_PLAINTEXT',
      '--sasl-mechanism',
      'PLAIN',
      '--sasl-username',
      'scaler',
      '--sasl-password-file',
      passwordFile
    ],
    { from: 'user' }
  )
  const security = kafkaSecurityFromOptions(command.opts(), {})
  assert.ok(security.sasl && security.sasl.mechanism === 'PLAIN' && security.sasl.username === 'scaler')
  assert.equal(security.tls, undefined)

  const missingUser = addKafkaSecurityOptions(new Command().exitOverride())
  missingUser.parse(['--security-protocol', 'SASL_SSL', '--sasl-mechanism', 'SCRAM-SHA-256'], { from: 'user' })
  assert.throws(
    () => kafkaSecurityFromOptions(missingUser.opts(), { KAFKA_SASL_PASSWORD: 'pw' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.field === '--sasl-username (KAFKA_SASL_USERNAME)' &&
      /required/.test(error.message)
  )
})
