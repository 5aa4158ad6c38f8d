import { randomBytes } from 'node:crypto'
import { createAdmin, type KafkaConnectionSecurity } from '../../kafka/index.ts'
import { defaultPolicy } from '../keda/policy-adapter.ts'
import type { ScalingPolicy } from '../keda/policy-port.ts'
import { createRateEstimator } from '../policy/rate-window.ts'
import type { AdminFactory } from '../signals/admin-port.ts'
import { SignalCollector } from '../signals/collector.ts'
import { withShareGroupApis } from '../signals/share-snapshot.ts'
import type { GroupSignals } from '../signals/types.ts'
import type { WorkerCommandError } from './errors.ts'
import { LocalReportStore } from './local-report-store.ts'
import { type LocalScalerConfig, type LocalScalerOptionsInput, parseLocalScalerOptions } from './options.ts'
import { type ReportEndpoint, startReportEndpoint } from './report-endpoint.ts'
import {
  initialLocalState,
  type LocalDecision,
  type LocalScalerState,
  type LocalStepConfig,
  stepLocalScaler,
  type WorkerObservation
} from './step.ts'
import { instanceIdFor, WORKER_ENV } from './worker-identity.ts'
import { type LocalLogger, WorkerPool } from './worker-pool.ts'

export interface LocalScalerDeps {
  logger?: LocalLogger
  /** The admin the signals are read with; the real Kafka admin by default. */
  adminFactory?: AdminFactory
  policy?: ScalingPolicy
  /** The environment workers inherit; this process's by default. */
  env?: NodeJS.ProcessEnv
  /** TLS and SASL of the admin connections to the brokers (with secrets: never logged); plaintext by default. */
  kafkaSecurity?: KafkaConnectionSecurity
}

export interface LocalScalerStatus {
  groupId: string
  replicas: number
  workers: (WorkerObservation & { instanceId: string; pid: number | null })[]
  lastDecision: LocalDecision | null
  reportUrl: string | null
}

export interface LocalScaler {
  readonly config: LocalScalerConfig
  /** Base URL workers post reports to (also STREAMLANE_SCALER_URL in their environment); null when disabled. */
  readonly reportUrl: string | null
  status(): LocalScalerStatus
  /** Settles once the scaler has stopped and every worker has exited; rejects on a fatal error. */
  readonly done: Promise<void>
  /** Stops deciding, SIGTERMs every worker, waits for them (SIGKILL after the grace period), closes. */
  stop(reason?: string): Promise<void>
  /** SIGKILL to every worker now (a second Ctrl-C); stop() still finishes the shutdown. */
  kill(): void
}

const SILENT: LocalLogger = { info() {}, warn() {}, error() {} }

/**
 * Runs worker processes on this machine and scales them by the group's lag and rates. Each tick reads the group's
 * signals, asks the pure step function (step.ts) what to do, and carries its actions out through the worker pool.
 */
export async function startLocalScaler(
  options: LocalScalerOptionsInput,
  deps: LocalScalerDeps = {}
): Promise<LocalScaler> {
  const config = parseLocalScalerOptions(options)
  const logger = deps.logger ?? SILENT
  const policy = deps.policy ?? defaultPolicy
  const adminFactory: AdminFactory =
    deps.adminFactory ??
    ((o) => {
      const connection = {
        brokers: o.brokers,
        clientId: o.clientId ?? 'streamlane-local-scaler',
        requestTimeoutMs: config.requestTimeoutMs,
        ...deps.kafkaSecurity
      }
      return withShareGroupApis(createAdmin(connection), connection)
    })
  const reports = new LocalReportStore({ ttlMs: config.reportTtlMs })
  const collector = new SignalCollector({ adminFactory, estimator: createRateEstimator, reports })
  const stepConfig: LocalStepConfig = {
    groupId: config.groupId,
    policy: config.policy,
    startTimeoutMs: config.startTimeoutMs,
    restartBackoffMs: config.restartBackoffMs,
    maxRestartBackoffMs: config.maxRestartBackoffMs,
    stableAfterMs: config.stableAfterMs
  }
  let state: LocalScalerState = initialLocalState(config.policy.minReplicas)
  let lastDecision: LocalDecision | null = null
  let stopping = false
  let timer: NodeJS.Timeout | undefined
  let ticking: Promise<void> | undefined
  let stopped: Promise<void> | undefined
  const done = Promise.withResolvers<void>()
  // A caller that only uses stop() must not see an unhandled rejection from a fatal error it already got from stop().
  done.promise.catch(() => {})

  let pool: WorkerPool | undefined
  let endpoint: ReportEndpoint | undefined
  // Made for this run and handed to its workers only: nothing else on the machine can post reports that steer it.
  const reportToken = randomBytes(32).toString('base64url')
  const status = (): LocalScalerStatus => {
    const pids = pool?.pids() ?? {}
    return {
      groupId: config.groupId,
      replicas: state.replicas,
      workers: (pool?.observe() ?? []).map((w) => ({
        ...w,
        instanceId: instanceIdFor(config.groupId, w.slot),
        pid: pids[w.slot] ?? null
      })),
      lastDecision,
      reportUrl: endpoint?.url ?? null
    }
  }
  if (config.reportPort !== null) {
    endpoint = await startReportEndpoint({
      reports,
      status,
      host: config.reportHost,
      port: config.reportPort,
      groupId: config.groupId,
      reportTokens: [{ token: reportToken, group: config.groupId }]
    })
  }
  const env: NodeJS.ProcessEnv = { ...(deps.env ?? process.env), [WORKER_ENV.brokers]: config.brokers.join(',') }
  if (endpoint) {
    env[WORKER_ENV.scalerUrl] = endpoint.url
    env[WORKER_ENV.reportToken] = reportToken
  }
  const workers = new WorkerPool({
    command: config.command,
    args: config.args,
    groupId: config.groupId,
    env,
    ...(config.cwd ? { cwd: config.cwd } : {}),
    graceMs: config.graceMs,
    logger,
    output: config.output,
    // An exit may release a hold or need a restart: look again soon rather than a whole interval later.
    onExit: (exit) => {
      reports.forget(exit.instanceId, exit.atMs)
      schedule(50)
    },
    onFatal: (error) => void fail(error)
  })
  pool = workers

  const target = {
    brokers: config.brokers,
    groupId: config.groupId,
    topics: config.topics,
    // The scaler creates the group itself: with named topics, a group not yet seen (min 0, first run) is lag from
    // the log start rather than an error.
    allowUnknownGroup: config.topics.length > 0,
    groupType: config.groupType,
    rateWindowMs: config.rateWindowMs
  }

  async function tick(): Promise<void> {
    let signals: GroupSignals | null = null
    let signalError: string | undefined
    try {
      signals = await collector.collect('local', target)
    } catch (error) {
      const e = error as { code?: string; message?: string }
      signalError = e.code ? `${e.code}: ${e.message}` : String(e.message ?? error)
    }
    if (stopping) return
    const nowMs = Date.now()
    const result = stepLocalScaler(
      state,
      {
        nowMs,
        signals,
        ...(signalError ? { signalError } : {}),
        workers: workers.observe(),
        reporting: reports.fresh(config.groupId, nowMs).map((r) => r.instanceId)
      },
      stepConfig,
      policy
    )
    state = result.state
    lastDecision = result.decision
    for (const event of result.events) logger[event.level](event.fields, event.message)
    const d = result.decision
    const level = signals ? 'info' : 'warn'
    logger[level](
      {
        group: config.groupId,
        replicas: d.replicas,
        previous: d.previous,
        recommended: d.recommended,
        hold: d.hold,
        lag: d.lag,
        arrivalRate: round(d.arrivalRate),
        commitRate: round(d.commitRate),
        trueRatePerInstance: round(d.trueRatePerInstance),
        members: d.members,
        groupState: d.groupState,
        workers: workers.observe().map((w) => `${w.slot}:${w.phase}`)
      },
      `scaling decision: ${d.reason}`
    )
    for (const action of result.actions) {
      if (action.type === 'start') workers.start(action.slot, action.reason)
      else if (action.type === 'stop') workers.stop(action.slot, action.reason)
      else workers.forget(action.slot)
    }
  }

  function schedule(delayMs: number): void {
    if (stopping || ticking) return
    clearTimeout(timer)
    timer = setTimeout(() => {
      timer = undefined
      ticking = tick()
        .catch((error) => logger.error({ err: error instanceof Error ? error.message : String(error) }, 'tick failed'))
        .finally(() => {
          ticking = undefined
          schedule(config.intervalMs)
        })
    }, delayMs)
  }

  function stop(reason = 'scaler stopping'): Promise<void> {
    stopped ??= (async () => {
      stopping = true
      clearTimeout(timer)
      await ticking
      logger.info(
        { group: config.groupId, workers: workers.size, graceMs: config.graceMs },
        `${reason}: stopping all workers`
      )
      await workers.stopAll(reason)
      await endpoint?.close()
      await collector.close()
      logger.info({ group: config.groupId }, 'local scaler stopped')
    })()
    return stopped
  }

  async function fail(error: WorkerCommandError): Promise<void> {
    logger.error({ code: error.code, err: error.message }, error.message)
    await stop('fatal error').catch(() => {})
    done.reject(error)
  }

  logger.info(
    {
      group: config.groupId,
      groupType: config.groupType,
      topics: config.topics,
      brokers: config.brokers,
      command: config.command,
      args: config.args,
      min: config.policy.minReplicas,
      max: config.policy.maxReplicas,
      intervalMs: config.intervalMs,
      graceMs: config.graceMs,
      reportUrl: endpoint?.url ?? null,
      policy: config.policy
    },
    'local scaler started'
  )
  schedule(0)

  return {
    config,
    reportUrl: endpoint?.url ?? null,
    status,
    done: done.promise,
    async stop(reason?: string) {
      await stop(reason)
      done.resolve()
    },
    kill: () => workers.killAll()
  }
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 100) / 100
}
