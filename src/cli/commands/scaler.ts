import { type Command, InvalidArgumentError, Option } from 'commander'
import { SCALER_TLS_SETTINGS, startScaler } from '../../autoscale/index.ts'
import { type BearerToken, loadServerTls, logTlsReload, parseTokens, readSecret } from '../../endpoint/index.ts'
import { createLogger } from '../../observe/index.ts'
import { addKafkaSecurityOptions, cliKafkaSecurity } from '../kafka-security-options.ts'

interface ScalerCliOptions {
  grpcPort: number
  httpPort: number
  host: string
  brokers?: string
  requestTimeoutMs: number
  streamIntervalMs: number
  reportTtlMs: number
  groups?: string
  allowedBrokers?: string
  allowAnyBrokers?: boolean
  tlsCertFile?: string
  tlsKeyFile?: string
  grpcClientCaFile?: string
  tokenFile?: string
  reportTokenFile?: string
  maxScaledObjects: number
  maxReports: number
  maxReportBytes: number
  logLevel: string
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean)
}

function count(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a whole number >= 1`)
  return n
}

/** A true/false environment variable; anything else is an error naming it (unset or empty: false). */
function envFlag(cmd: Command, name: string, env: NodeJS.ProcessEnv): boolean {
  const value = env[name]?.trim().toLowerCase()
  if (value === undefined || value === '' || value === 'false') return false
  if (value === 'true') return true
  return cmd.error(`error: ${name} must be true or false, got "${env[name]}"`)
}

/** Tokens from a file flag or, failing that, the inline variable (env only: a flag would show in `ps`). */
function tokens(setting: string, inline: string | undefined, file: string | undefined): BearerToken[] | undefined {
  const text = readSecret(setting, inline, file)
  return text === undefined ? undefined : parseTokens(text)
}

function port(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`"${value}" is not a port (0-65535)`)
  return n
}

function milliseconds(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`"${value}" is not a positive number of milliseconds`)
  return n
}

/**
 * `streamlane scaler`: KEDA's external scaler (gRPC) and a metrics-api endpoint (HTTP) for any consumer group. Each
 * flag can also come from the environment variable named in its help, for a Deployment's `env:`; a flag given on the
 * command line wins.
 */
export function registerScaler(program: Command): void {
  // The Kafka security flags come first in the help; they are the same as autoscale's (kafka-security-options.ts).
  addKafkaSecurityOptions(program.command('scaler'))
    .description('serve the KEDA external scaler (gRPC) and the metrics-api endpoint (HTTP) for consumer groups')
    .addOption(
      new Option('--grpc-port <port>', 'gRPC port for KEDA `external` triggers')
        .env('STREAMLANE_SCALER_GRPC_PORT')
        .argParser(port)
        .default(9090)
    )
    .addOption(
      new Option('--http-port <port>', 'HTTP port for metrics-api, reports and /healthz')
        .env('STREAMLANE_SCALER_HTTP_PORT')
        .argParser(port)
        .default(8080)
    )
    .addOption(
      new Option('--host <address>', 'address to listen on (0.0.0.0 in a pod behind a Service)')
        .env('STREAMLANE_SCALER_HOST')
        .default('127.0.0.1')
    )
    .addOption(
      new Option('--brokers <list>', 'default bootstrap servers for triggers that name none').env('KAFKA_BROKERS')
    )
    .addOption(
      new Option('--groups <list>', 'consumer groups served (a trailing * is a prefix); default: any').env(
        'STREAMLANE_SCALER_GROUPS'
      )
    )
    .addOption(
      new Option('--allowed-brokers <list>', 'brokers bootstrapServers may name besides --brokers').env(
        'STREAMLANE_SCALER_ALLOWED_BROKERS'
      )
    )
    // No .env(): commander sets a boolean flag from a variable that merely exists, so ...=false would turn it on.
    .addOption(
      new Option(
        '--allow-any-brokers',
        'let bootstrapServers name any host:port, trusted callers only (or STREAMLANE_SCALER_ALLOW_ANY_BROKERS=true)'
      )
    )
    .addOption(
      new Option('--tls-cert-file <path>', 'PEM server certificate: gRPC and HTTP over TLS').env(
        'STREAMLANE_SCALER_TLS_CERT_FILE'
      )
    )
    .addOption(new Option('--tls-key-file <path>', 'PEM private key').env('STREAMLANE_SCALER_TLS_KEY_FILE'))
    .addOption(
      new Option('--grpc-client-ca-file <path>', 'PEM CA: gRPC callers must present a certificate it signed').env(
        'STREAMLANE_SCALER_GRPC_CLIENT_CA_FILE'
      )
    )
    .addOption(
      new Option('--token-file <path>', 'bearer token(s) for GET /metrics[/:group] (or STREAMLANE_SCALER_TOKEN)').env(
        'STREAMLANE_SCALER_TOKEN_FILE'
      )
    )
    .addOption(
      new Option(
        '--report-token-file <path>',
        'bearer token(s) for POST /reports, `<group> <token>` binds one to a group (or STREAMLANE_SCALER_REPORT_TOKEN)'
      ).env('STREAMLANE_SCALER_REPORT_TOKEN_FILE')
    )
    .addOption(
      new Option('--max-scaled-objects <n>', 'ScaledObjects and queries with state (least recently used evicted)')
        .env('STREAMLANE_SCALER_MAX_SCALED_OBJECTS')
        .argParser(count)
        .default(1_000)
    )
    .addOption(
      new Option('--max-reports <n>', 'self-reports kept over all groups')
        .env('STREAMLANE_SCALER_MAX_REPORTS')
        .argParser(count)
        .default(10_000)
    )
    .addOption(
      new Option('--max-report-bytes <n>', 'bytes of self-reports kept')
        .env('STREAMLANE_SCALER_MAX_REPORT_BYTES')
        .argParser(count)
        .default(8 * 1024 * 1024)
    )
    .addOption(
      new Option('--request-timeout-ms <ms>', 'deadline of one broker call')
        .env('STREAMLANE_SCALER_REQUEST_TIMEOUT_MS')
        .argParser(milliseconds)
        .default(10_000)
    )
    .addOption(
      new Option('--stream-interval-ms <ms>', 'how often StreamIsActive re-evaluates')
        .env('STREAMLANE_SCALER_STREAM_INTERVAL_MS')
        .argParser(milliseconds)
        .default(5_000)
    )
    .addOption(
      new Option('--report-ttl-ms <ms>', 'how long an instance self-report counts')
        .env('STREAMLANE_SCALER_REPORT_TTL_MS')
        .argParser(milliseconds)
        .default(30_000)
    )
    .addOption(
      new Option('--log-level <level>', 'pino log level')
        .env('STREAMLANE_LOG_LEVEL')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
        .default('info')
    )
    .action(async (options: ScalerCliOptions, cmd: Command) => {
      // The app's log shape (src/observe/logger.ts: stderr, numeric level, time, pid), tagged with the component.
      const logger = createLogger({ component: 'scaler' }, options.logLevel)
      const kafkaSecurity = cliKafkaSecurity(options, cmd)
      const allowAnyBrokers =
        options.allowAnyBrokers === true || envFlag(cmd, 'STREAMLANE_SCALER_ALLOW_ANY_BROKERS', process.env)
      const defaultBrokers = list(options.brokers)
      const groups = list(options.groups)
      const tlsFiles = {
        certFile: options.tlsCertFile,
        keyFile: options.tlsKeyFile,
        clientCaFile: options.grpcClientCaFile
      }
      const tls = loadServerTls(tlsFiles, SCALER_TLS_SETTINGS)
      const readTokens = tokens('--token-file', process.env.STREAMLANE_SCALER_TOKEN, options.tokenFile)
      const reportTokens = tokens(
        '--report-token-file',
        process.env.STREAMLANE_SCALER_REPORT_TOKEN,
        options.reportTokenFile
      )
      const scaler = await startScaler({
        host: options.host,
        grpcPort: options.grpcPort,
        httpPort: options.httpPort,
        defaultBrokers,
        access: {
          ...(groups.length > 0 ? { groups } : {}),
          allowedBrokers: list(options.allowedBrokers),
          allowAnyBrokers
        },
        // The files are watched: a renewed certificate (cert-manager, a rotated Secret) is served without a restart.
        ...(tls ? { tls, tlsFiles } : {}),
        onTlsReload: logTlsReload(logger, 'scaler'),
        ...(readTokens ? { readTokens } : {}),
        ...(reportTokens ? { reportTokens } : {}),
        limits: {
          maxObjects: options.maxScaledObjects,
          maxReports: options.maxReports,
          maxReportBytes: options.maxReportBytes
        },
        requestTimeoutMs: options.requestTimeoutMs,
        streamIntervalMs: options.streamIntervalMs,
        reportTtlMs: options.reportTtlMs,
        kafkaSecurity,
        logger
      })
      // What is open and what is closed, once, without any secret: an operator reads the security posture here.
      logger.info(
        {
          grpcPort: scaler.grpcPort,
          httpPort: scaler.httpPort,
          host: options.host,
          defaultBrokers,
          groups: groups.length > 0 ? groups : 'any',
          allowedBrokers: allowAnyBrokers ? 'any' : list(options.allowedBrokers),
          tls: tls !== undefined,
          grpcClientCertificates: tls?.clientCa !== undefined,
          metricsToken: readTokens !== undefined,
          reportToken: reportTokens !== undefined
        },
        'scaler listening'
      )
      if (!reportTokens) {
        logger.warn(
          {},
          'POST /reports refuses every self-report: no report token (STREAMLANE_SCALER_REPORT_TOKEN[_FILE])'
        )
      }
      // Served until a signal: Kubernetes sends SIGTERM, a terminal SIGINT.
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          logger.info({ signal }, 'scaler stopping')
          resolve()
        }
        process.once('SIGTERM', stop)
        process.once('SIGINT', stop)
      })
      await scaler.close()
      logger.info({}, 'scaler stopped')
    })
}
