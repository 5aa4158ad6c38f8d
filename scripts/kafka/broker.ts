/**
 * A single-node Apache Kafka broker (KRaft, combined broker + controller) on loopback, assembled from Maven Central
 * by `pom.xml` beside this file and run with the system's Java. Used by `npm run kafka`, the test suite and the
 * benchmarks. No Docker: the jars land in `.kafka/lib` once and are reused.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const kafkaHome = join(repoRoot, '.kafka')
const libDir = join(kafkaHome, 'lib')
const pomFile = join(repoRoot, 'scripts/kafka/pom.xml')
const stampFile = join(libDir, '.pom-stamp')

export class BrokerSetupError extends Error {
  override name = 'BrokerSetupError'
}

/** What a command prints on stdout and stderr (java prints its version on stderr), or undefined if it is absent. */
function commandVersion(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  if (result.error) return undefined
  return `${result.stdout}${result.stderr}`
}

/** Java 17+ is required by Kafka 4.x; say exactly what to install when it is missing. */
export function checkJava(): void {
  const out = commandVersion('java', ['-version']) ?? ''
  const match = /version "(\d+)(?:\.(\d+))?/.exec(out)
  if (!match) {
    throw new BrokerSetupError(
      'Java 17 or newer is needed to run the local Kafka broker: install a JDK (e.g. `apt-get install openjdk-17-jdk-headless`) or set KAFKA_BROKERS to an existing cluster'
    )
  }
  const major = Number(match[1] === '1' ? match[2] : match[1])
  if (major < 17) {
    throw new BrokerSetupError(
      `Java ${major} found, but Kafka 4.x needs Java 17 or newer: install a newer JDK or set KAFKA_BROKERS`
    )
  }
}

/** Downloads the broker's jars with Maven when they are missing or the pom changed since the last download. */
export function ensureKafkaJars(): string {
  checkJava()
  // The pom's content, not its mtime: a fresh clone or a git worktree gives the same pom a new mtime.
  const pomHash = createHash('sha256').update(readFileSync(pomFile)).digest('hex')
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === pomHash) return libDir
  if (commandVersion('mvn', ['-v']) === undefined) {
    throw new BrokerSetupError(
      'Maven is needed to fetch the Kafka broker from Maven Central: install it (e.g. `apt-get install maven`) or set KAFKA_BROKERS to an existing cluster'
    )
  }
  process.stderr.write('streamlane: fetching Apache Kafka from Maven Central (once)...\n')
  execFileSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      pomFile,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${libDir}`
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] }
  )
  writeFileSync(stampFile, pomHash)
  return libDir
}

export function kafkaClasspath(): string {
  return join(ensureKafkaJars(), '*')
}

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))
      )
    })
  })
}

async function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolveAnswer(true)
    })
    socket.once('error', () => resolveAnswer(false))
  })
}

export interface BrokerOptions {
  /** Directory for data, config and the broker log; reused (not reformatted) when it already holds a broker. */
  dir: string
  port?: number
  controllerPort?: number
  /** How long to wait for the broker to answer. */
  startTimeoutMs?: number
  /** Keep the broker running after this process exits (for `npm run kafka`). */
  detached?: boolean
  heapMb?: number
  /** Also serve SASL_SSL and mutual-TLS SSL listeners (the plaintext listener stays, for the broker itself). */
  secure?: SecureListenerOptions
}

/**
 * A broker as production clusters run it: a SASL_SSL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER
 * with Kafka's unsecured-JWT validator, for tests only) and an SSL listener that requires a client certificate.
 * SCRAM users are created with Kafka's own storage tool when the data dir is formatted.
 */
export interface SecureListenerOptions {
  /** PEM certificate of the broker (its SAN must name 127.0.0.1) and its unencrypted private key. */
  certFile: string
  keyFile: string
  /** PEM CA that client certificates on the SSL listener must be signed by. */
  caFile: string
  /** Users of every SASL mechanism (SCRAM credentials for both hashes, PLAIN via the JAAS config). */
  users: { name: string; password: string }[]
}

export interface Broker {
  bootstrap: string
  port: number
  /** With `secure`: the SASL_SSL listener and the SSL listener that requires client certificates. */
  saslSslBootstrap?: string
  sslBootstrap?: string
  pid: number
  logFile: string
  /** Stops the broker (SIGTERM, then SIGKILL after the deadline). */
  stop(timeoutMs?: number): Promise<void>
  /** Stops and starts the broker on the same ports and data, as a broker restart in production would. */
  restart(): Promise<void>
}

interface SecurePorts {
  saslSsl: number
  ssl: number
  /** PEM key + certificate chain in one file, as Kafka's PEM keystore reads it. */
  keystoreFile: string
  options: SecureListenerOptions
}

function serverProperties(port: number, controllerPort: number, logDir: string, secure?: SecurePorts): string {
  const extra = secure ? [`SASL_SSL://127.0.0.1:${secure.saslSsl}`, `SSL://127.0.0.1:${secure.ssl}`] : []
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=${[`PLAINTEXT://127.0.0.1:${port}`, `CONTROLLER://127.0.0.1:${controllerPort}`, ...extra].join(',')}`,
    `advertised.listeners=${[`PLAINTEXT://127.0.0.1:${port}`, ...extra].join(',')}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${secure ? ',SASL_SSL:SASL_SSL,SSL:SSL' : ''}`,
    ...(secure ? secureProperties(secure) : []),
    `log.dirs=${logDir}`,
    'num.partitions=1',
    // Topics are created explicitly by Streamlane; a typo in a topic name must be an error, not a new topic.
    'auto.create.topics.enable=false',
    'group.initial.rebalance.delay.ms=0',
    // Tests use short session timeouts so a killed member is noticed in seconds.
    'group.min.session.timeout.ms=1000',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    // Abort transactions past their timeout within a second of it (default 10 s), so zombie tests stay short.
    'transaction.abort.timed.out.transaction.cleanup.interval.ms=1000',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Share groups (KIP-932) are on by default in 4.2+ (share.version feature). Tests use short heartbeats, sessions and
    // acquisition locks (set per group) so joins, departures and lock-timeout redeliveries take seconds, not minutes.
    'group.share.min.heartbeat.interval.ms=500',
    'group.share.heartbeat.interval.ms=500',
    'group.share.min.session.timeout.ms=3000',
    'group.share.session.timeout.ms=6000',
    'group.share.min.record.lock.duration.ms=1000',
    'group.share.assignment.interval.ms=100',
    // The default 128 MiB dedupe buffer is heap-allocated; compaction of test changelogs needs little.
    'log.cleaner.dedupe.buffer.size=2097152',
    'log.cleaner.backoff.ms=1000',
    'log.segment.delete.delay.ms=1000'
  ].join('\n')}\n`
}

function secureProperties(secure: SecurePorts): string[] {
  const users = secure.options.users
  const plainUsers = users.map((u) => `user_${u.name}="${u.password}"`).join(' ')
  const jaas = (mechanism: string, module: string) => `listener.name.sasl_ssl.${mechanism}.sasl.jaas.config=${module};`
  return [
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${secure.keystoreFile}`,
    'listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
    jaas('plain', `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers}`),
    jaas('scram-sha-256', 'org.apache.kafka.common.security.scram.ScramLoginModule required'),
    jaas('scram-sha-512', 'org.apache.kafka.common.security.scram.ScramLoginModule required'),
    // Kafka's default OAUTHBEARER validator accepts unsigned JWTs: enough to test the client's token provider.
    jaas('oauthbearer', 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required'),
    'listener.name.ssl.ssl.client.auth=required',
    'listener.name.ssl.ssl.truststore.type=PEM',
    `listener.name.ssl.ssl.truststore.location=${secure.options.caFile}`
  ]
}

/** Kafka's PEM keystore wants the key as PKCS#8 followed by the certificate chain, in one file. */
function writePemKeystore(options: SecureListenerOptions, file: string): void {
  const pkcs8 = execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', options.keyFile], { encoding: 'utf8' })
  writeFileSync(file, `${pkcs8}${readFileSync(options.certFile, 'utf8')}`)
}

/** `--add-scram` arguments of Kafka's storage tool: each user for both SCRAM hashes. */
function scramArguments(options: SecureListenerOptions | undefined): string[] {
  return (options?.users ?? []).flatMap((u) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${u.name},password=${u.password}]`])
  )
}

const log4jConfig = (logFile: string) => `status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${logFile}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = info
logger.state.name = state.change.logger
logger.state.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
`

export async function startBroker(options: BrokerOptions): Promise<Broker> {
  const classpath = kafkaClasspath()
  const dir = resolve(options.dir)
  const dataDir = join(dir, 'data')
  mkdirSync(dataDir, { recursive: true })
  const port = options.port ?? (await freePort())
  const controllerPort = options.controllerPort ?? (await freePort())
  const propertiesFile = join(dir, 'server.properties')
  const logFile = join(dir, 'broker.log')
  let secure: SecurePorts | undefined
  if (options.secure) {
    secure = {
      saslSsl: await freePort(),
      ssl: await freePort(),
      keystoreFile: join(dir, 'broker-keystore.pem'),
      options: options.secure
    }
    writePemKeystore(options.secure, secure.keystoreFile)
  }
  writeFileSync(propertiesFile, serverProperties(port, controllerPort, dataDir, secure))
  writeFileSync(join(dir, 'log4j2.properties'), log4jConfig(logFile))

  if (!existsSync(join(dataDir, 'meta.properties'))) {
    const clusterId = execFileSync('java', ['-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid'], {
      encoding: 'utf8'
    }).trim()
    execFileSync(
      'java',
      [
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        propertiesFile,
        '--ignore-formatted',
        ...scramArguments(options.secure)
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] }
    )
  }

  const startTimeoutMs = options.startTimeoutMs ?? 90_000
  let child: ChildProcess

  const launch = async (): Promise<void> => {
    const logOffset = existsSync(logFile) ? statSync(logFile).size : 0
    const out = openSync(join(dir, 'broker.out'), 'a')
    child = spawn(
      'java',
      [
        `-Xmx${options.heapMb ?? 768}m`,
        '-Xms256m',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        propertiesFile
      ],
      { detached: options.detached ?? false, stdio: ['ignore', out, out] }
    )
    if (options.detached) child.unref()
    let exited: number | null | undefined
    child.once('exit', (code) => {
      exited = code
    })
    const deadline = Date.now() + startTimeoutMs
    while (!(await portAnswers(port)) || !brokerStarted(logFile, logOffset)) {
      if (exited !== undefined) {
        throw new BrokerSetupError(
          `Kafka broker exited with code ${exited} while starting; see ${logFile} and ${join(dir, 'broker.out')}`
        )
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new BrokerSetupError(
          `Kafka broker on 127.0.0.1:${port} did not answer within ${startTimeoutMs} ms; see ${logFile}`
        )
      }
      await delay(100)
    }
  }

  const stop = async (timeoutMs = 30_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    // The timer is cancelled once the broker exits, so a caller's process is not kept alive by it.
    const timer = new AbortController()
    const timedOut = await Promise.race([
      exited.then(() => false),
      delay(timeoutMs, true, { signal: timer.signal }).catch(() => false)
    ])
    timer.abort()
    if (timedOut) {
      child.kill('SIGKILL')
      await exited
    }
  }

  await launch()
  return {
    bootstrap: `127.0.0.1:${port}`,
    port,
    ...(secure ? { saslSslBootstrap: `127.0.0.1:${secure.saslSsl}`, sslBootstrap: `127.0.0.1:${secure.ssl}` } : {}),
    get pid() {
      return child.pid ?? -1
    },
    logFile,
    stop,
    async restart() {
      await stop()
      await launch()
    }
  }
}

/** The broker logs this once it serves clients; an open port alone only means the socket server is up. */
function brokerStarted(logFile: string, fromOffset: number): boolean {
  if (!existsSync(logFile)) return false
  // Each (re)start appends to the log; look only at what this start wrote.
  return readFileSync(logFile).subarray(fromOffset).includes('Kafka Server started')
}
