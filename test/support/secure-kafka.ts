/**
 * A Kafka broker of the test's own with a SASL_SSL listener (SCRAM-SHA-256/512, PLAIN, OAUTHBEARER) and an SSL
 * listener that requires client certificates, certificates made with openssl at test time (certs.ts). The user's
 * password lives in a file, as a mounted Kubernetes Secret would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBroker } from '../../scripts/kafka/broker.ts'
import type { KafkaConnectionOptions } from '../../src/kafka/connection.ts'
import {
  type KafkaSecurityInput,
  kafkaConnectionSecurity,
  parseKafkaSecurity
} from '../../src/runtime/kafka-security.ts'
import { makeTestCerts, type TestCerts } from './certs.ts'

export const SECURE_USER = 'alice'

export interface SecureKafka {
  certs: TestCerts
  /** host:port of the SASL_SSL listener. */
  saslSsl: string
  /** host:port of the SSL listener that requires a client certificate signed by the test CA. */
  mtls: string
  passwordFile: string
  /** A file holding a wrong password for the same user. */
  wrongPasswordFile: string
  /** The app's `security` settings for SASL_SSL with SCRAM-SHA-512 and the test CA. */
  security(overrides?: Partial<KafkaSecurityInput>): KafkaSecurityInput
  /** Connection options for the Kafka layer (admin, producer, reader) with those settings. */
  connection(security?: KafkaSecurityInput): KafkaConnectionOptions
  stop(): Promise<void>
}

export async function startSecureKafka(): Promise<SecureKafka> {
  const certs = makeTestCerts()
  const dir = mkdtempSync(join(tmpdir(), 'streamlane-secure-broker-'))
  const password = `${SECURE_USER}-secret`
  const passwordFile = join(certs.dir, 'password')
  const wrongPasswordFile = join(certs.dir, 'wrong-password')
  writeFileSync(passwordFile, `${password}\n`)
  writeFileSync(wrongPasswordFile, 'not-the-password\n')
  const broker = await startBroker({
    dir,
    heapMb: 384,
    secure: {
      certFile: certs.serverCertFile,
      keyFile: certs.serverKeyFile,
      caFile: certs.caFile,
      users: [{ name: SECURE_USER, password }]
    }
  }).catch((error: unknown) => {
    certs.remove()
    rmSync(dir, { recursive: true, force: true })
    throw error
  })
  const security = (overrides: Partial<KafkaSecurityInput> = {}): KafkaSecurityInput => ({
    securityProtocol: 'SASL_SSL',
    sasl: { mechanism: 'SCRAM-SHA-512', username: SECURE_USER, passwordFile },
    ssl: { caFile: certs.caFile },
    ...overrides
  })
  return {
    certs,
    saslSsl: broker.saslSslBootstrap!,
    mtls: broker.sslBootstrap!,
    passwordFile,
    wrongPasswordFile,
    security,
    connection: (settings = security()) => {
      const brokers = [settings.securityProtocol === 'SSL' ? broker.sslBootstrap! : broker.saslSslBootstrap!]
      return { brokers, requestTimeoutMs: 10_000, ...kafkaConnectionSecurity(parseKafkaSecurity(settings)) }
    },
    async stop() {
      await broker.stop()
      certs.remove()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
