/**
 * How an instance asks another one (a forwarded query): one GET over HTTP or HTTPS on kept-alive connections. Over
 * HTTPS the peers' certificates are verified against the system CAs (and NODE_EXTRA_CA_CERTS), or against the CA
 * the app names for its peers (`queryPeerCaFile`), whose current content `peerCa` gives: when it changes (a rotated
 * CA), new connections trust the new one.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

export interface PeerAnswer {
  status: number
  body: string
}

export interface PeerClientOptions {
  scheme: 'http' | 'https'
  /** The CA (PEM) that signed the peers' certificates; undefined: the system's. Read at each request. */
  peerCa?: (() => Buffer | undefined) | undefined
  timeoutMs: number
}

export type PeerGet = (host: string, path: string, headers: Record<string, string>) => Promise<PeerAnswer>

export function peerClient(options: PeerClientOptions): PeerGet {
  const http = new HttpAgent({ keepAlive: true })
  let https: { ca: Buffer | undefined; agent: HttpsAgent } | undefined
  const httpsAgent = () => {
    const ca = options.peerCa?.()
    if (https?.ca !== ca || !https) {
      // A new CA: new connections verify against it. The old agent's queries in flight finish on their connections,
      // and its idle ones are closed by the peers' keep-alive timeout.
      https = { ca, agent: new HttpsAgent({ keepAlive: true, ...(ca ? { ca } : {}) }) }
    }
    return https.agent
  }
  return (host, path, headers) =>
    new Promise<PeerAnswer>((resolve, reject) => {
      const url = new URL(`${options.scheme}://${host}${path}`)
      const common = { headers, signal: AbortSignal.timeout(options.timeoutMs) }
      const onResponse = (response: IncomingMessage) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('error', reject)
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      }
      const request =
        options.scheme === 'https'
          ? httpsRequest(url, { ...common, agent: httpsAgent() }, onResponse)
          : httpRequest(url, { ...common, agent: http }, onResponse)
      request.on('error', reject)
      request.end()
    })
}
