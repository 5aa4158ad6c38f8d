import { availableParallelism } from 'node:os'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { startLocalScaler } from '../../autoscale/index.ts'
import { ConfigError } from '../../errors.ts'
import { createLogger } from '../../observe/index.ts'
import { addKafkaSecurityOptions, cliKafkaSecurity } from '../kafka-security-options.ts'

interface AutoscaleCliOptions {
  local?: boolean
  group?: string
  topics?: string
  shareGroup?: boolean
  brokers?: string
  min: number
  max: number
  intervalMs: number
  graceMs: number
  startTimeoutMs: number
  restartBackoffMs: number
  rateWindowMs: number
  reportPort: number
  reports: boolean
  workerOutput: 'inherit' | 'ignore'
  logLevel: string
  lagDrainTargetSeconds?: number
  normalLagSeconds?: number
  perReplicaRate?: number
  activationLag?: number
  scaleToZeroAfterSeconds?: number
  scaleOutStabilizationSeconds?: number
  scaleInStabilizationSeconds?: number
  tolerance?: number
  standbyReplicas?: number
  partitionAwareRounding: boolean
}

/** CLI flag -> policy field (src/autoscale/policy/config.ts), for the flags that are passed only when given. */
const POLICY_FLAGS = [
  'lagDrainTargetSeconds',
  'normalLagSeconds',
  'perReplicaRate',
  'activationLag',
  'scaleToZeroAfterSeconds',
  'scaleOutStabilizationSeconds',
  'scaleInStabilizationSeconds',
  'tolerance',
  'standbyReplicas'
] as const

function whole(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a whole number >= 0`)
  return n
}

function decimal(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`"${value}" is not a number >= 0`)
  return n
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

/**
 * `streamlane autoscale --local -- <command> [args...]`: runs the worker command as many times as the scaling policy
 * asks, on this machine. Policy flags map one to one onto the policy's fields; the ones not given keep its defaults.
 */
export function registerAutoscale(program: Command): void {
  addKafkaSecurityOptions(program.command('autoscale'))
    .description('run worker processes of a consumer group and scale them by its lag and rates')
    .usage('--local --group <id> [options] -- <command> [args...]')
    .option('--local', 'start and stop the workers as processes on this machine (the only mode so far)')
    .addOption(new Option('--group <id>', 'consumer group the workers form').env('STREAMLANE_GROUP_ID'))
    .option(
      '--topics <list>',
      'input topics to measure (default: what the group commits on or is assigned; its repartition topics always)'
    )
    .option(
      '--share-group',
      'the workers form a share group: scale by its backlog up to --max, past the partition count'
    )
    .addOption(new Option('--brokers <list>', 'bootstrap servers, host:port,...').env('KAFKA_BROKERS'))
    .option('--min <n>', 'fewest workers; 0 allows scaling to zero when idle', whole, 1)
    .option(
      '--max <n>',
      "most workers (a Streamlane app's task count, else the partition count, caps it too)",
      whole,
      availableParallelism()
    )
    .option('--interval-ms <ms>', 'how often to read signals and decide', whole, 2_000)
    .option('--grace-ms <ms>', 'SIGTERM -> SIGKILL delay when stopping a worker', whole, 30_000)
    .option('--start-timeout-ms <ms>', 'a worker not seen in the group by then is presumed started', whole, 60_000)
    .option('--restart-backoff-ms <ms>', 'first restart delay after a crash (doubles per crash in a row)', whole, 1_000)
    .option('--rate-window-ms <ms>', 'sliding window of the arrival and commit rates', whole, 30_000)
    .option('--report-port <port>', 'port of the report endpoint for the workers (0: any free port)', whole, 0)
    .option('--no-reports', 'no report endpoint (workers then cannot report their true processing rate)')
    .addOption(
      new Option('--worker-output <mode>', "workers' stdout / stderr").choices(['inherit', 'ignore']).default('inherit')
    )
    .option('--lag-drain-target-seconds <s>', 'policy: drain the backlog within this many seconds', decimal)
    .option('--normal-lag-seconds <s>', 'policy: lag up to arrival rate x this is in flight, not backlog', decimal)
    .option('--per-replica-rate <n>', 'policy: records/s one worker processes, until workers report it', decimal)
    .option('--activation-lag <n>', 'policy: lag at or below which the group is idle', whole)
    .option('--scale-to-zero-after-seconds <s>', 'policy: idle time before going to zero (with --min 0)', decimal)
    .option('--scale-out-stabilization-seconds <s>', 'policy: a higher count must hold this long', decimal)
    .option('--scale-in-stabilization-seconds <s>', 'policy: a lower count must hold this long', decimal)
    .option('--tolerance <fraction>', 'policy: headroom kept when scaling in (hysteresis)', decimal)
    .option('--standby-replicas <n>', 'policy: standbys per task; a scale-in step removes at most this + 1', whole)
    .option('--no-partition-aware-rounding', 'policy: plain ceil(need) instead of partition-aware counts')
    .addOption(
      new Option('--log-level <level>', 'pino log level')
        .env('STREAMLANE_LOG_LEVEL')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
        .default('info')
    )
    .argument('<command>', 'the worker command, after --')
    .argument('[args...]', "the worker command's arguments")
    .action(async (command: string, args: string[], options: AutoscaleCliOptions, cmd: Command) => {
      if (!options.local) {
        cmd.error(
          'error: only --local is available: it runs the workers on this machine. On Kubernetes, let KEDA scale ' +
            'the Deployment with `streamlane scaler` as its external scaler (docs/keda.md).'
        )
      }
      if (!options.group) cmd.error('error: --group (or STREAMLANE_GROUP_ID) is required: the group the workers form')
      const brokers = list(options.brokers)
      if (brokers.length === 0) cmd.error('error: --brokers (or KAFKA_BROKERS) is required')
      const policy: Record<string, unknown> = {
        minReplicas: options.min,
        maxReplicas: options.max,
        partitionAwareRounding: options.partitionAwareRounding
      }
      for (const flag of POLICY_FLAGS) if (options[flag] !== undefined) policy[flag] = options[flag]
      // The app's log shape (src/observe/logger.ts: stderr, numeric level, time, pid), tagged with the component.
      const logger = createLogger({ component: 'autoscale' }, options.logLevel)
      const kafkaSecurity = cliKafkaSecurity(options, cmd)
      let scaler: Awaited<ReturnType<typeof startLocalScaler>>
      try {
        scaler = await startLocalScaler(
          {
            groupId: options.group ?? '',
            topics: list(options.topics),
            groupType: options.shareGroup ? 'share' : 'consumer',
            brokers,
            command,
            args,
            intervalMs: options.intervalMs,
            graceMs: options.graceMs,
            startTimeoutMs: options.startTimeoutMs,
            restartBackoffMs: options.restartBackoffMs,
            rateWindowMs: options.rateWindowMs,
            reportPort: options.reports ? options.reportPort : null,
            output: options.workerOutput,
            policy
          },
          { logger, kafkaSecurity }
        )
      } catch (error) {
        if (error instanceof ConfigError) cmd.error(`error: ${error.message}`)
        throw error
      }
      // First SIGTERM / SIGINT: stop in order (SIGTERM to every worker, wait up to the grace). A second: SIGKILL now.
      let signalled = 0
      const onSignal = (signal: NodeJS.Signals) => {
        signalled++
        if (signalled === 1) {
          logger.info({ signal }, `${signal}: stopping`)
          void scaler.stop(`${signal} received`)
        } else {
          logger.warn({ signal }, `${signal} again: killing every worker`)
          scaler.kill()
        }
      }
      process.on('SIGTERM', onSignal)
      process.on('SIGINT', onSignal)
      try {
        await scaler.done
      } catch (error) {
        process.exitCode = 1
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'local scaler failed')
      } finally {
        process.off('SIGTERM', onSignal)
        process.off('SIGINT', onSignal)
      }
    })
}
