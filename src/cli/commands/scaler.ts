import { type Command, InvalidArgumentError, Option } from 'commander'
import pino from 'pino'
import { startScaler } from '../../autoscale/keda/start.ts'
import { addKafkaSecurityOptions, cliKafkaSecurity } from '../kafka-security-options.ts'

interface ScalerCliOptions {
  grpcPort: number
  httpPort: number
  host: string
  brokers?: string
  requestTimeoutMs: number
  streamIntervalMs: number
  reportTtlMs: number
  logLevel: string
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
    .addOption(new Option('--host <address>', 'address to listen on').env('STREAMLANE_SCALER_HOST').default('0.0.0.0'))
    .addOption(
      new Option('--brokers <list>', 'default bootstrap servers for triggers that name none').env('KAFKA_BROKERS')
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
      const logger = pino({ name: 'streamlane-scaler', level: options.logLevel })
      const kafkaSecurity = cliKafkaSecurity(options, cmd)
      const defaultBrokers = (options.brokers ?? '')
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean)
      const scaler = await startScaler({
        host: options.host,
        grpcPort: options.grpcPort,
        httpPort: options.httpPort,
        defaultBrokers,
        requestTimeoutMs: options.requestTimeoutMs,
        streamIntervalMs: options.streamIntervalMs,
        reportTtlMs: options.reportTtlMs,
        kafkaSecurity,
        logger
      })
      logger.info(
        { grpcPort: scaler.grpcPort, httpPort: scaler.httpPort, host: options.host, defaultBrokers },
        'scaler listening'
      )
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
