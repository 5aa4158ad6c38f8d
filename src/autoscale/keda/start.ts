import {
  type BearerToken,
  type FileWatch,
  httpsOptions,
  type ServerTls,
  type ServerTlsFiles,
  type TlsReloadOutcome,
  watchServerTls
} from '../../endpoint/index.ts'
import { createAdmin, type KafkaConnectionSecurity } from '../../kafka/index.ts'
import { type MetricsApiServer, startMetricsApi } from '../metrics-api/server.ts'
import { createRateEstimator } from '../policy/rate-window.ts'
import type { AdminFactory } from '../signals/admin-port.ts'
import { SignalCollector } from '../signals/collector.ts'
import { InstanceReportStore } from '../signals/report-store.ts'
import { withShareGroupApis } from '../signals/share-snapshot.ts'
import type { ScalerAccess } from './access-policy.ts'
import { ReloadableServerCredentials } from './grpc-credentials.ts'
import { type ExternalScalerServer, startExternalScalerServer } from './grpc-server.ts'
import { defaultPolicy } from './policy-adapter.ts'
import type { ScalingPolicy } from './policy-port.ts'
import { createScalerMetrics, type ScalerMetrics } from './scaler-metrics.ts'
import { type ScalerLogger, ScalerService } from './scaler-service.ts'

/** Bounds of the state callers can make the scaler keep; past them the least recently used entry is evicted. */
export interface ScalerLimits {
  /** ScaledObjects (and metrics-api query names) with policy state. */
  maxObjects?: number
  /** Rate histories (one per ScaledObject and what it measures). */
  maxTracked?: number
  /** Self-reports kept, over all groups, and their bytes (JSON size). */
  maxReports?: number
  maxReportBytes?: number
  /** Largest HTTP request body read. */
  bodyLimit?: number
}

export interface ScalerOptions {
  /** Listen address of both ports; loopback by default (a pod sets 0.0.0.0 behind a Service). */
  host?: string
  /** 0 picks a free port; null disables the gRPC server. */
  grpcPort: number | null
  /** 0 picks a free port; null disables the HTTP server. */
  httpPort: number | null
  /** Used when a trigger names no bootstrapServers; always allowed. */
  defaultBrokers?: string[]
  /** Groups served and clusters triggers may name. */
  access?: ScalerAccess
  /** Server certificate and key for both ports; `clientCa` makes gRPC require client certificates (mTLS). */
  tls?: ServerTls
  /**
   * The files `tls` was read from: watched (a stat every 2 s), and once they change and load as a valid pair the new
   * certificate is served on both ports to new connections, without a restart; open connections keep theirs.
   */
  tlsFiles?: ServerTlsFiles
  /** Called after each change of the TLS files: loaded, or kept the old pair (the error names no key material). */
  onTlsReload?: (outcome: TlsReloadOutcome) => void
  /** Bearer tokens for GET /metrics and /metrics/:group; none = those routes are open. */
  readTokens?: BearerToken[]
  /** Bearer tokens for POST /reports; none = reports are refused. */
  reportTokens?: BearerToken[]
  limits?: ScalerLimits
  /** Deadline of one admin call to the brokers; kept well below KEDA's gRPC timeout so our error reaches it. */
  requestTimeoutMs?: number
  connectTimeoutMs?: number
  streamIntervalMs?: number
  reportTtlMs?: number
  logger?: ScalerLogger
  adminFactory?: AdminFactory
  /** TLS and SASL of the scaler's own connections to its brokers (never from a trigger); plaintext by default. */
  kafkaSecurity?: KafkaConnectionSecurity
  policy?: ScalingPolicy
}

export interface RunningScaler {
  grpcPort: number | null
  httpPort: number | null
  service: ScalerService
  reports: InstanceReportStore
  collector: SignalCollector
  metrics: ScalerMetrics
  close(): Promise<void>
}

/** The scaler's TLS settings as its command line names them, for errors about the files. */
export const SCALER_TLS_SETTINGS = {
  certFile: '--tls-cert-file',
  keyFile: '--tls-key-file',
  clientCaFile: '--grpc-client-ca-file'
} as const

/** Starts the KEDA external scaler (gRPC) and the metrics-api (HTTP) over one shared ScalerService. */
export async function startScaler(options: ScalerOptions): Promise<RunningScaler> {
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000
  const limits = options.limits ?? {}
  const adminFactory: AdminFactory =
    options.adminFactory ??
    ((o) => {
      const connection = {
        brokers: o.brokers,
        clientId: o.clientId ?? 'streamlane-scaler',
        connectTimeoutMs,
        requestTimeoutMs,
        ...options.kafkaSecurity
      }
      return withShareGroupApis(createAdmin(connection), connection)
    })
  const metrics = createScalerMetrics(() => [
    { store: 'reports', entries: reports.size.reports, bytes: reports.size.bytes },
    { store: 'scaled_objects', entries: service.objects },
    { store: 'rate_histories', entries: collector.size.tracked }
  ])
  const reports = new InstanceReportStore({
    ...(options.reportTtlMs === undefined ? {} : { ttlMs: options.reportTtlMs }),
    ...(limits.maxReports === undefined ? {} : { maxReports: limits.maxReports }),
    ...(limits.maxReportBytes === undefined ? {} : { maxBytes: limits.maxReportBytes }),
    onEvict: () => metrics.evicted('reports')
  })
  const collector = new SignalCollector({
    adminFactory,
    estimator: createRateEstimator,
    reports,
    ...(limits.maxTracked === undefined ? {} : { maxTracked: limits.maxTracked }),
    onEvict: () => metrics.evicted('rate_histories')
  })
  const service = new ScalerService({
    collector,
    policy: options.policy ?? defaultPolicy,
    ...(options.logger ? { logger: options.logger } : {}),
    defaultBrokers: options.defaultBrokers ?? [],
    access: options.access ?? {},
    ...(limits.maxObjects === undefined ? {} : { maxObjects: limits.maxObjects }),
    onEvict: () => metrics.evicted('scaled_objects')
  })
  const host = options.host ?? '127.0.0.1'
  const grpcTls = options.tls ? new ReloadableServerCredentials(options.tls) : undefined
  let grpc: ExternalScalerServer | undefined
  let http: MetricsApiServer | undefined
  let tlsWatch: FileWatch | undefined
  try {
    if (options.grpcPort !== null) {
      grpc = await startExternalScalerServer({
        service,
        address: `${host.includes(':') ? `[${host}]` : host}:${options.grpcPort}`,
        metrics,
        // One stream per ScaledObject using external-push: as many as ScaledObjects are kept.
        ...(limits.maxObjects === undefined ? {} : { maxStreams: limits.maxObjects }),
        ...(grpcTls ? { tls: grpcTls } : {}),
        ...(options.streamIntervalMs ? { streamIntervalMs: options.streamIntervalMs } : {}),
        ...(options.logger ? { logger: options.logger } : {})
      })
    }
    if (options.httpPort !== null) {
      http = await startMetricsApi({
        service,
        reports,
        host,
        port: options.httpPort,
        metrics,
        // HTTP callers authenticate with tokens; client certificates are for KEDA's gRPC connection.
        ...(options.tls ? { tls: { cert: options.tls.cert, key: options.tls.key } } : {}),
        ...(options.readTokens ? { readTokens: options.readTokens } : {}),
        ...(options.reportTokens ? { reportTokens: options.reportTokens } : {}),
        ...(limits.bodyLimit === undefined ? {} : { bodyLimit: limits.bodyLimit }),
        ...(options.logger ? { logger: options.logger } : {})
      })
    }
    if (options.tls && options.tlsFiles) {
      const httpServer = http?.app.server as unknown as { setSecureContext(o: object): void } | undefined
      tlsWatch = watchServerTls(
        options.tlsFiles,
        SCALER_TLS_SETTINGS,
        (tls) => {
          grpcTls?.update(tls)
          // HTTP callers authenticate with tokens: the client CA is for gRPC only, as at start.
          httpServer?.setSecureContext(httpsOptions({ cert: tls.cert, key: tls.key }))
        },
        options.onTlsReload ? { onReload: options.onTlsReload } : {}
      )
    }
  } catch (error) {
    await grpc?.close()
    await service.close()
    throw error
  }
  return {
    grpcPort: grpc?.port ?? null,
    httpPort: http?.port ?? null,
    service,
    reports,
    collector,
    metrics,
    async close() {
      tlsWatch?.close()
      await Promise.allSettled([grpc?.close(), http?.close()])
      await service.close()
    }
  }
}
