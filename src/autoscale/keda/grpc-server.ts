import * as grpc from '@grpc/grpc-js'
import { StreamlaneError } from '../../errors.ts'
import { SignalError } from '../signals/errors.ts'
import {
  type GetMetricsRequestMessage,
  loadExternalScalerService,
  type MetricSpecMessage,
  type MetricValueMessage,
  type ScaledObjectRefMessage
} from './proto.ts'
import type { ScalerLogger, ScalerRequest, ScalerService } from './scaler-service.ts'

export interface ExternalScalerServerOptions {
  service: ScalerService
  /** `host:port`; port 0 picks a free one (tests). */
  address: string
  /** How often StreamIsActive re-evaluates; it pushes only when the answer changes. */
  streamIntervalMs?: number
  logger?: ScalerLogger
}

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
  const { service, logger } = options
  const streamIntervalMs = options.streamIntervalMs ?? 5_000
  const server = new grpc.Server()
  const streams = new Set<() => void>()

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
    server.bindAsync(options.address, grpc.ServerCredentials.createInsecure(), (error, bound) =>
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

function toRequest(ref: ScaledObjectRefMessage): ScalerRequest {
  return { namespace: ref.namespace, name: ref.name, metadata: ref.scalerMetadata ?? {}, source: 'metadata' }
}

function unary<Req, Res>(
  method: string,
  logger: ScalerLogger | undefined,
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
    status =
      error.kind === 'invalid'
        ? grpc.status.INVALID_ARGUMENT
        : error.kind === 'not-found'
          ? grpc.status.NOT_FOUND
          : grpc.status.UNAVAILABLE
  }
  return { code: status, details: `${code}: ${message}` }
}

function logFailure(logger: ScalerLogger | undefined, method: string, ref: ScaledObjectRefMessage, error: unknown) {
  logger?.warn(
    {
      method,
      scaledObject: `${ref?.namespace ?? ''}/${ref?.name ?? ''}`,
      code: error instanceof StreamlaneError ? error.code : undefined,
      err: error instanceof Error ? error.message : String(error)
    },
    `${method} failed`
  )
}
