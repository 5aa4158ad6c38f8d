import * as grpc from '@grpc/grpc-js'
import { StreamlaneError } from '../../errors.ts'
import { SignalError } from '../signals/errors.ts'
import type { ReloadableServerCredentials } from './grpc-credentials.ts'
import {
  type GetMetricsRequestMessage,
  loadExternalScalerService,
  type MetricSpecMessage,
  type MetricValueMessage,
  type ScaledObjectRefMessage
} from './proto.ts'
import type { ScalerMetrics } from './scaler-metrics.ts'
import type { ScalerLogger, ScalerRequest, ScalerService } from './scaler-service.ts'

export interface ExternalScalerServerOptions {
  service: ScalerService
  /** `host:port`; port 0 picks a free one (tests). */
  address: string
  /** How often StreamIsActive re-evaluates; it pushes only when the answer changes. */
  streamIntervalMs?: number
  logger?: ScalerLogger
  /**
   * Server certificate and key; with `clientCa`, KEDA must present a client certificate that CA signed (mTLS). The
   * credentials' `update` serves a renewed certificate to new connections (start.ts watches the files).
   */
  tls?: ReloadableServerCredentials
  metrics?: ScalerMetrics
  /** Most StreamIsActive streams open at once; more are refused with RESOURCE_EXHAUSTED. */
  maxStreams?: number
}

export const DEFAULT_MAX_STREAMS = 1_000

/**
 * Largest request taken: a ScaledObjectRef is a name, a namespace and a small metadata map. gRPC's default (4 MiB)
 * would let any caller park megabytes per call.
 */
const MAX_REQUEST_BYTES = 64 * 1024

export interface ExternalScalerServer {
  /** The port actually bound. */
  port: number
  close(): Promise<void>
}

/**
 * KEDA's `externalscaler.ExternalScaler` over gRPC. Every failure answers with a status that names what is wrong
 * (INVALID_ARGUMENT for metadata, NOT_FOUND for an unknown group or topic, UNAVAILABLE for the brokers): KEDA then
 * keeps the current replica count or applies the ScaledObject's fallback, where a zero would scale the app away.
 */
export async function startExternalScalerServer(options: ExternalScalerServerOptions): Promise<ExternalScalerServer> {
  const { service } = options
  const logger: FailureLog = { logger: options.logger, metrics: options.metrics }
  const streamIntervalMs = options.streamIntervalMs ?? 5_000
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_REQUEST_BYTES })
  const streams = new Set<() => void>()
  const maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS
  const toRequest = (ref: ScaledObjectRefMessage) => requestOf(ref, options.tls !== undefined)

  const handlers: grpc.UntypedServiceImplementation = {
    IsActive: unary<ScaledObjectRefMessage, { result: boolean }>('IsActive', logger, async (ref) => {
      const evaluation = await service.evaluate(toRequest(ref))
      return { result: evaluation.active }
    }),

    GetMetricSpec: unary<ScaledObjectRefMessage, { metricSpecs: MetricSpecMessage[] }>(
      'GetMetricSpec',
      logger,
      async (ref) => {
        const spec = service.metricSpec(toRequest(ref))
        return {
          metricSpecs: [
            { metricName: spec.metricName, targetSize: Math.round(spec.targetSize), targetSizeFloat: spec.targetSize }
          ]
        }
      }
    ),

    GetMetrics: unary<GetMetricsRequestMessage, { metricValues: MetricValueMessage[] }>(
      'GetMetrics',
      logger,
      async (request) => {
        if (!request.scaledObjectRef) throw new GrpcInputError('GetMetricsRequest.scaledObjectRef is missing')
        const evaluation = await service.evaluate(toRequest(request.scaledObjectRef))
        return {
          metricValues: [
            {
              // KEDA strips its `s<index>-` prefix before asking; answer under the name it asked for.
              metricName: request.metricName || evaluation.metricName,
              // Both fields: KEDA before 2.17 reads only the int64, later ones the double when it is > 0.
              metricValue: Math.ceil(evaluation.metricValue),
              metricValueFloat: evaluation.metricValue
            }
          ]
        }
      }
    ),

    StreamIsActive: (call: grpc.ServerWritableStream<ScaledObjectRefMessage, { result: boolean }>) => {
      // Each open stream polls the brokers every interval: their number is bounded like the ScaledObjects' state.
      if (streams.size >= maxStreams) {
        options.metrics?.refused('grpc', 'too-many-streams')
        call.emit('error', {
          code: grpc.status.RESOURCE_EXHAUSTED,
          details: `StreamIsActive: ${maxStreams} streams are open already (the scaler's --max-scaled-objects)`
        })
        return
      }
      let last: boolean | undefined
      let timer: NodeJS.Timeout | undefined
      let stopped = false
      const stop = () => {
        stopped = true
        if (timer) clearTimeout(timer)
        streams.delete(stop)
      }
      streams.add(stop)
      call.on('cancelled', stop)
      call.on('close', stop)
      const tick = async () => {
        try {
          const evaluation = await service.evaluate(toRequest(call.request))
          if (stopped) return
          if (evaluation.active !== last) {
            last = evaluation.active
            call.write({ result: evaluation.active })
          }
          timer = setTimeout(tick, streamIntervalMs)
        } catch (error) {
          if (stopped) return
          stop()
          logFailure(logger, 'StreamIsActive', call.request, error)
          // Ending the stream with the status makes KEDA reconnect (and log why) instead of trusting a stale answer.
          call.emit('error', toStatus(error))
        }
      }
      void tick()
    },

    StreamMetricSpec: (call: grpc.ServerWritableStream<ScaledObjectRefMessage, unknown>) => {
      call.emit('error', {
        code: grpc.status.UNIMPLEMENTED,
        details: 'StreamMetricSpec: the metric target never changes; use GetMetricSpec'
      })
    }
  }

  server.addService(loadExternalScalerService(), handlers)
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.address, options.tls ?? grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound)
    )
  })
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stop of [...streams]) stop()
        // Streams KEDA holds open would delay a graceful shutdown forever; give in-flight unary calls a moment.
        const force = setTimeout(() => server.forceShutdown(), 2_000)
        server.tryShutdown(() => {
          clearTimeout(force)
          resolve()
        })
      })
  }
}

/** A malformed gRPC request (not a metadata problem). */
class GrpcInputError extends StreamlaneError {
  constructor(message: string) {
    super('STREAMLANE_SCALER_REQUEST_INVALID', message)
  }
}

/**
 * KEDA's TLS keys (`enableTLS`, and `caCert` / `tlsClientCert` / `tlsClientKey` in a TriggerAuthentication) make it
 * dial with TLS; it passes `enableTLS` on in the metadata. A call that says enableTLS=true yet reached a plaintext
 * server came over a connection the ScaledObject did not ask for (a proxy, an old KEDA): refused, so the mismatch
 * shows on the ScaledObject instead of TLS being silently dropped.
 */
function requestOf(ref: ScaledObjectRefMessage, serverTls: boolean): ScalerRequest {
  const metadata = ref.scalerMetadata ?? {}
  if (!serverTls && metadata.enableTLS?.trim().toLowerCase() === 'true') {
    throw new GrpcInputError(
      'metadata.enableTLS is true but this scaler serves plaintext gRPC: start it with --tls-cert-file and ' +
        '--tls-key-file (STREAMLANE_SCALER_TLS_CERT_FILE / _KEY_FILE), or drop enableTLS'
    )
  }
  return { namespace: ref.namespace, name: ref.name, metadata, source: 'metadata' }
}

/** Where a failed call is told: the log, and the refusal metric for a request the operator did not allow. */
interface FailureLog {
  logger: ScalerLogger | undefined
  metrics: ScalerMetrics | undefined
}

function unary<Req, Res>(
  method: string,
  logger: FailureLog,
  handle: (request: Req) => Promise<Res>
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handle(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => {
        const request = call.request as { scaledObjectRef?: ScaledObjectRefMessage | null }
        logFailure(logger, method, (request.scaledObjectRef ?? call.request) as ScaledObjectRefMessage, error)
        callback(toStatus(error))
      }
    )
  }
}

/** Maps an error to a gRPC status; the details carry the Streamlane code so KEDA's events say which rule fired. */
export function toStatus(error: unknown): Partial<grpc.StatusObject> {
  const message = error instanceof Error ? error.message : String(error)
  const code = error instanceof StreamlaneError ? error.code : 'STREAMLANE_SCALER_INTERNAL'
  let status: grpc.status = grpc.status.INTERNAL
  if (error instanceof GrpcInputError) status = grpc.status.INVALID_ARGUMENT
  else if (error instanceof SignalError) {
    const byKind = {
      invalid: grpc.status.INVALID_ARGUMENT,
      forbidden: grpc.status.PERMISSION_DENIED,
      'not-found': grpc.status.NOT_FOUND,
      unavailable: grpc.status.UNAVAILABLE
    } as const
    status = byKind[error.kind]
  }
  return { code: status, details: `${code}: ${message}` }
}

function logFailure(log: FailureLog, method: string, ref: ScaledObjectRefMessage, error: unknown) {
  if (error instanceof SignalError && error.kind === 'forbidden') log.metrics?.refused('grpc', 'not-allowed')
  log.logger?.warn(
    {
      method,
      scaledObject: `${ref?.namespace ?? ''}/${ref?.name ?? ''}`,
      code: error instanceof StreamlaneError ? error.code : undefined,
      err: error instanceof Error ? error.message : String(error)
    },
    `${method} failed`
  )
}
