/**
 * Every kind of Kafka connection Streamlane makes, against a broker that requires SASL over TLS (its own broker,
 * started here): an exactly-once app, a KEDA scaler query, the local autoscaler with its workers, the mechanisms
 * and mutual TLS; and the two classic misconfigurations (wrong password, untrusted certificate) fail at start with
 * an error naming the cause, having processed and committed nothing.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startScaler } from '../../../src/autoscale/keda/start.ts'
import type { MetricsResponse } from '../../../src/autoscale/metrics-api/server.ts'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { AuthenticationError, BrokerTlsError } from '../../../src/kafka/errors.ts'
import { createPartitionReader, OFFSET_EARLIEST } from '../../../src/kafka/partition-reader.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import type { KafkaSecurityInput } from '../../../src/runtime/kafka-security.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { uniqueName } from '../../support/kafka.ts'
import { SECURE_USER, type SecureKafka, startSecureKafka } from '../../support/secure-kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { countTopology } from '../runtime/fixtures/count-topology.ts'

const BIN = fileURLToPath(new URL('../../../bin/streamlane.js', import.meta.url))
const MAP_FILTER_APP = fileURLToPath(new URL('../runtime/fixtures/map-filter-app.ts', import.meta.url))
const PARTITIONS = 2
const KEYS = 20

let kafka: SecureKafka
let admin: KafkaAdmin
const cleanups: (() => Promise<void>)[] = []

before(async () => {
  kafka = await startSecureKafka()
  admin = createAdmin({ ...kafka.connection(), clientId: 'sasl-ssl-test' })
})

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  await admin?.close()
  await kafka?.stop()
})

async function topicsWithInput(prefix: string, records: number): Promise<{ input: string; output: string }> {
  const input = uniqueName(`${prefix}-in`)
  const output = uniqueName(`${prefix}-out`)
  await admin.createTopics([
    { name: input, partitions: PARTITIONS },
    { name: output, partitions: PARTITIONS }
  ])
  const producer = createProducer(kafka.connection())
  try {
    const batch = Array.from({ length: records }, (_, i) => ({
      topic: input,
      key: Buffer.from(`key-${i % KEYS}`),
      value: Buffer.from(String(i))
    }))
    await producer.send(batch)
  } finally {
    await producer.close()
  }
  return { input, output }
}

/** Reads `topic` (read_committed) over SASL_SSL until `until` holds. */
async function readTopic(topic: string, until: (records: ConsumedRecord[]) => boolean): Promise<ConsumedRecord[]> {
  const reader = createPartitionReader({ ...kafka.connection(), isolation: 'read_committed', copyBuffers: true })
  const records: ConsumedRecord[] = []
  try {
    await reader.assign(
      Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: OFFSET_EARLIEST }))
    )
    await waitFor(`records of ${topic}`, async () => {
      records.push(...(await reader.poll(200)))
      return until(records)
    })
    return records
  } finally {
    await reader.close()
  }
}

async function endOffsets(topic: string): Promise<bigint[]> {
  return [...(await admin.listOffsets([{ topic }], 'latest')).get(topic)!.values()]
}

/** The group's committed offset per input partition; -1 where it committed none. */
async function committedOffsets(groupId: string, topic: string): Promise<bigint[]> {
  return (await admin.fetchGroupOffsets(groupId, [topic])).map((o) => o.offset)
}

function app(input: string, output: string, security: KafkaSecurityInput, applicationId = uniqueName('sasl-app')) {
  return new StreamlaneApp(countTopology(input, output), {
    applicationId,
    bootstrapServers: [kafka.saslSsl],
    processingGuarantee: 'exactly_once_v2',
    stateDir: kafka.certs.dir,
    sessionTimeoutMs: 6_000,
    security
  })
}

test('an exactly-once app processes every record over SASL_SSL (SCRAM-SHA-512, password file, CA file)', async () => {
  const { input, output } = await topicsWithInput('eos', KEYS * 3)
  const counting = app(input, output, kafka.security())
  cleanups.push(() => counting.close())
  await counting.start()
  const records = await readTopic(output, (all) => {
    const latest = new Map(all.map((r) => [r.key!.toString(), r.value!.readInt32BE(0)]))
    return latest.size === KEYS && [...latest.values()].every((count) => count === 3)
  })
  assert.ok(records.length >= KEYS)
  await waitFor('input offsets committed', async () => {
    const committed = await admin.fetchGroupOffsets(counting.config.applicationId, [input])
    return committed.reduce((sum, o) => sum + Number(o.offset > 0n ? o.offset : 0n), 0) === KEYS * 3
  })
  await counting.close()
})

test('wrong credentials: start fails naming the user, the mechanism and the broker; nothing processed or committed', async () => {
  const { input, output } = await topicsWithInput('wrong-password', KEYS)
  const security = kafka.security({
    sasl: { mechanism: 'SCRAM-SHA-256', username: SECURE_USER, passwordFile: kafka.wrongPasswordFile }
  })
  const refused = app(input, output, security)
  cleanups.push(() => refused.close())
  await assert.rejects(refused.start(), (error: unknown) => {
    assert.ok(error instanceof AuthenticationError, String(error))
    assert.equal(error.code, 'STREAMLANE_KAFKA_AUTHENTICATION')
    assert.match(error.message, new RegExp(`user ${SECURE_USER} with broker ${kafka.saslSsl} failed`))
    assert.match(error.message, /SCRAM-SHA-256/)
    return true
  })
  await refused.close()
  assert.deepEqual(await endOffsets(output), [0n, 0n])
  assert.deepEqual(await committedOffsets(refused.config.applicationId, input), [-1n, -1n])
})

test('an untrusted broker certificate: start fails naming the broker and the cause; nothing processed or committed', async () => {
  const { input, output } = await topicsWithInput('untrusted', KEYS)
  // A CA that did not sign the broker's certificate, as when the cluster's CA is not the one configured.
  const refused = app(input, output, kafka.security({ ssl: { caFile: kafka.certs.strangerCertFile } }))
  cleanups.push(() => refused.close())
  await assert.rejects(refused.start(), (error: unknown) => {
    assert.ok(error instanceof BrokerTlsError, String(error))
    assert.equal(error.code, 'STREAMLANE_KAFKA_TLS')
    assert.match(
      error.message,
      new RegExp(`TLS with Kafka broker ${kafka.saslSsl} failed: its certificate is not trusted`)
    )
    assert.match(error.message, /KAFKA_SSL_CA_FILE/)
    return true
  })
  await refused.close()
  assert.deepEqual(await endOffsets(output), [0n, 0n])
  assert.deepEqual(await committedOffsets(refused.config.applicationId, input), [-1n, -1n])
})

test('PLAIN, SCRAM-SHA-256, OAUTHBEARER (token provider in code) and mutual TLS each reach the broker', async () => {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  let tokens = 0
  // Kafka's default validator accepts an unsigned JWT; a real provider would fetch a token from the OAuth server.
  const tokenProvider = () => {
    tokens++
    const now = Math.floor(Date.now() / 1000)
    return `${b64({ alg: 'none' })}.${b64({ sub: SECURE_USER, iat: now, exp: now + 600 })}.`
  }
  const settings: [string, KafkaSecurityInput][] = [
    [
      'PLAIN',
      kafka.security({ sasl: { mechanism: 'PLAIN', username: SECURE_USER, passwordFile: kafka.passwordFile } })
    ],
    [
      'SCRAM-SHA-256',
      kafka.security({ sasl: { mechanism: 'SCRAM-SHA-256', username: SECURE_USER, passwordFile: kafka.passwordFile } })
    ],
    ['OAUTHBEARER', kafka.security({ sasl: { mechanism: 'OAUTHBEARER', oauthBearerTokenProvider: tokenProvider } })],
    [
      'mutual TLS',
      {
        securityProtocol: 'SSL',
        ssl: { caFile: kafka.certs.caFile, certFile: kafka.certs.clientCertFile, keyFile: kafka.certs.clientKeyFile }
      }
    ]
  ]
  for (const [name, security] of settings) {
    const client = createAdmin(kafka.connection(security))
    try {
      const topic = uniqueName(`mechanism-${name.replaceAll(' ', '-')}`)
      await client.createTopics([{ name: topic, partitions: 1 }])
      assert.ok((await client.listTopics()).includes(topic), name)
    } finally {
      await client.close()
    }
  }
  assert.ok(tokens >= 1)
})

test('the KEDA scaler reads a group over SASL_SSL with its own credentials, and says when they are refused', async () => {
  const { input } = await topicsWithInput('scaler', 30)
  const group = uniqueName('scaler-group')
  const scaler = await startScaler({
    host: '127.0.0.1',
    grpcPort: null,
    httpPort: 0,
    defaultBrokers: [kafka.saslSsl],
    kafkaSecurity: kafka.connection(),
    requestTimeoutMs: 5_000
  })
  cleanups.push(() => scaler.close())
  const response = await fetch(
    `http://127.0.0.1:${scaler.httpPort}/metrics/${group}?topics=${input}&allowUnknownGroup=true`
  )
  const body = (await response.json()) as MetricsResponse
  assert.equal(response.status, 200, JSON.stringify(body))
  assert.equal(body.lag, 30)
  await scaler.close()

  // With a wrong password, the query's error says that authentication failed, for which user.
  const wrongSecurity = kafka.security({
    sasl: { mechanism: 'SCRAM-SHA-512', username: SECURE_USER, passwordFile: kafka.wrongPasswordFile }
  })
  const refused = await startScaler({
    host: '127.0.0.1',
    grpcPort: null,
    httpPort: 0,
    defaultBrokers: [kafka.saslSsl],
    kafkaSecurity: kafka.connection(wrongSecurity),
    requestTimeoutMs: 5_000
  })
  cleanups.push(() => refused.close())
  const failed = await fetch(
    `http://127.0.0.1:${refused.httpPort}/metrics/${group}?topics=${input}&allowUnknownGroup=true`
  )
  const error = ((await failed.json()) as { error: { message: string } }).error
  assert.equal(failed.status, 503, JSON.stringify(error))
  assert.match(error.message, new RegExp(`authentication for user ${SECURE_USER} with broker ${kafka.saslSsl} failed`))
  await refused.close()
})

test('the local autoscaler and its workers run over SASL_SSL from KAFKA_* variables', { timeout: 90_000 }, async () => {
  const { input, output } = await topicsWithInput('autoscale', 40)
  const group = uniqueName('autoscale-group')
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STREAMLANE_LOG_LEVEL: 'info',
    STREAMLANE_APPLICATION_ID: group,
    INPUT_TOPIC: input,
    OUTPUT_TOPIC: output,
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
    KAFKA_SASL_USERNAME: SECURE_USER,
    KAFKA_SASL_PASSWORD_FILE: kafka.passwordFile,
    KAFKA_SSL_CA_FILE: kafka.certs.caFile
  }
  const args = ['autoscale', '--local', '--group', group, '--topics', input, '--brokers', kafka.saslSsl]
  args.push('--min', '1', '--max', '1', '--interval-ms', '500', '--', process.execPath, BIN, 'run', MAP_FILTER_APP)
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const decisions: { lag: number | null; members: number | null }[] = []
  const lines: string[] = []
  // The scaler's JSON lines (component "autoscale") and its worker's share its stderr.
  const keep = (line: string) => {
    lines.push(line)
    try {
      const log = JSON.parse(line) as { component?: string; msg?: string; lag?: number | null; members?: number | null }
      if (log.component === 'autoscale' && log.msg?.startsWith('scaling decision'))
        decisions.push({ lag: log.lag ?? null, members: log.members ?? null })
    } catch {}
  }
  createInterface({ input: child.stdout! }).on('line', keep)
  createInterface({ input: child.stderr! }).on('line', keep)

  // The worker (a Streamlane app configured by the same variables) keeps the 20 even numbers of the 40.
  await readTopic(output, (records) => records.length === 20)
  // The scaler measured the group over SASL_SSL: its worker joined and the lag reached zero.
  await waitFor(
    'a decision that saw the worker and no lag',
    () => decisions.some((d) => d.members === 1 && d.lag === 0),
    {
      timeoutMs: 30_000
    }
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${lines.slice(-20).join('\n')}`)
  })
  child.kill('SIGTERM')
  assert.equal(await exited, 0, lines.slice(-20).join('\n'))
})
