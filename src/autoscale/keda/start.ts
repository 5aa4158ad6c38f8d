import { createAdmin } from '../../kafka/admin.ts'
import type { KafkaConnectionSecurity } from '../../kafka/connection.ts'
import { type MetricsApiServer, startMetricsApi } from '../metrics-api/server.ts'
import { createRateEstimator } from '../policy/rate-window.ts'
import type { AdminFactory } from '../signals/admin-port.ts'
import { SignalCollector } from '../signals/collector.ts'
import { InstanceReportStore } from '../signals/report-store.ts'
import { type ExternalScalerServer, startExternalScalerServer } from './grpc-server.ts'
import { defaultPolicy } from './policy-adapter.ts'
import type { ScalingPolicy } from './policy-port.ts'
import { type ScalerLogger, ScalerService } from './scaler-service.ts'

export interface ScalerOptions {
  host?: string
  /** 0 picks a free port; null disables the gRPC server. */
  grpcPort: number | null
  /** 0 picks a free port; null disables the HTTP server. */
  httpPort: number | null
  /** Used when a trigger names no bootstrapServers. */
  defaultBrokers?: string[]
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
  close(): Promise<void>
}

/** Starts the KEDA external scaler (gRPC) and the metrics-api (HTTP) over one shared ScalerService. */
export async function startScaler(options: ScalerOptions): Promise<RunningScaler> {
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000
  const adminFactory: AdminFactory =
    options.adminFactory ??
    ((o) =>
      createAdmin({
        brokers: o.brokers,
        clientId: o.clientId ?? 'streamlane-scaler',
        connectTimeoutMs,
        requestTimeoutMs,
        ...options.kafkaSecurity
      }))
  const reports = new InstanceReportStore(options.reportTtlMs === undefined ? {} : { ttlMs: options.reportTtlMs })
  const collector = new SignalCollector({ adminFactory, estimator: createRateEstimator, reports })
  const service = new ScalerService({
    collector,
    policy: options.policy ?? defaultPolicy,
    ...(options.logger ? { logger: options.logger } : {}),
    defaultBrokers: options.defaultBrokers ?? []
  })
  const host = options.host ?? '0.0.0.0'
  let grpc: ExternalScalerServer | undefined
  let http: MetricsApiServer | undefined
  try {
    if (options.grpcPort !== null) {
      grpc = await startExternalScalerServer({
        service,
        address: `${host.includes(':') ? `[${host}]` : host}:${options.grpcPort}`,
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
        ...(options.logger ? { logger: options.logger } : {})
      })
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
    async close() {
      await Promise.allSettled([grpc?.close(), http?.close()])
      await service.close()
    }
  }
}
