import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

/** The .proto copied field for field from KEDA (pkg/scalers/externalscaler/externalscaler.proto). */
export const EXTERNAL_SCALER_PROTO = fileURLToPath(new URL('../proto/externalscaler.proto', import.meta.url))

/** Messages as proto-loader hands them over with the options below (keepCase: names as in the .proto). */
export interface ScaledObjectRefMessage {
  name: string
  namespace: string
  scalerMetadata: Record<string, string>
}

export interface GetMetricsRequestMessage {
  scaledObjectRef: ScaledObjectRefMessage | null
  metricName: string
}

export interface MetricSpecMessage {
  metricName: string
  targetSize: number
  targetSizeFloat: number
}

export interface MetricValueMessage {
  metricName: string
  metricValue: number
  metricValueFloat: number
}

/**
 * Loads the ExternalScaler service definition. `longs: Number` because the deprecated int64 fields hold replica-sized
 * numbers; `defaults: true` so a request without metadata arrives as an empty map, not undefined.
 */
export function loadExternalScalerService(): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync(EXTERNAL_SCALER_PROTO, {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true
  })
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    externalscaler: { ExternalScaler: grpc.ServiceClientConstructor }
  }
  return loaded.externalscaler.ExternalScaler.service
}

/** A client of the same service, for the TypeScript tests (the Go conformance test uses KEDA's own client). */
export function externalScalerClient(
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()
): grpc.Client & Record<string, unknown> {
  const definition = protoLoader.loadSync(EXTERNAL_SCALER_PROTO, { keepCase: true, longs: Number, defaults: true })
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    externalscaler: { ExternalScaler: grpc.ServiceClientConstructor }
  }
  return new loaded.externalscaler.ExternalScaler(address, credentials) as grpc.Client & Record<string, unknown>
}
