/**
 * A container's httpGet probe, as a kubelet runs it: GET on the pod's address (127.0.0.1 here) and the probe's port
 * (a number or a named port), success for any status from 200 to 399. HTTPS probes do not verify the certificate,
 * like a kubelet's.
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface HttpProbe {
  httpGet?: { path?: string; port: number | string; scheme?: string }
  initialDelaySeconds?: number
  periodSeconds?: number
  timeoutSeconds?: number
  failureThreshold?: number
  successThreshold?: number
}

export class ProbeError extends Error {
  readonly code = 'STREAMLANE_K8S_PROBE'
}

export function probePort(probe: HttpProbe, namedPorts: Map<string, number>, ports: Map<number, number>): number {
  const port = probe.httpGet?.port
  if (port === undefined) throw new ProbeError('only httpGet probes are supported by the node agent')
  if (typeof port === 'number') return ports.get(port) ?? port
  const named = namedPorts.get(port)
  if (named === undefined) throw new ProbeError(`probe names port ${port}, which the container does not declare`)
  return named
}

export function runHttpProbe(probe: HttpProbe, port: number): Promise<boolean> {
  const https = probe.httpGet?.scheme === 'HTTPS'
  const send = https ? httpsRequest : httpRequest
  const timeout = (probe.timeoutSeconds ?? 1) * 1000
  return new Promise((resolve) => {
    const req = send(
      {
        host: '127.0.0.1',
        port,
        path: probe.httpGet?.path ?? '/',
        timeout,
        ...(https ? { rejectUnauthorized: false } : {})
      },
      (res) => {
        res.resume()
        const status = res.statusCode ?? 0
        resolve(status >= 200 && status < 400)
      }
    )
    req.once('timeout', () => req.destroy())
    req.once('error', () => resolve(false))
    req.end()
  })
}
