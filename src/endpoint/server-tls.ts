import type { ServerOptions } from 'node:https'
import { EndpointSecretError } from './errors.ts'
import { readPemFile } from './secret-file.ts'

/** Files of a TLS listener (paths, e.g. of a mounted Kubernetes TLS Secret: tls.crt, tls.key, ca.crt). */
export interface ServerTlsFiles {
  certFile?: string | undefined
  keyFile?: string | undefined
  /** CA that signs the clients' certificates: given, a client must present one it signed (mutual TLS). */
  clientCaFile?: string | undefined
}

/** Loaded PEM material; `clientCa` set means client certificates are required and verified. */
export interface ServerTls {
  cert: Buffer
  key: Buffer
  clientCa?: Buffer
}

/**
 * Loads a listener's TLS material, or undefined when no file is set (plain TCP). A certificate without its key (or
 * the reverse), or a client CA without a server certificate, is a configuration error naming the settings.
 */
export function loadServerTls(
  files: ServerTlsFiles,
  names: Record<keyof ServerTlsFiles, string>
): ServerTls | undefined {
  const { certFile, keyFile, clientCaFile } = files
  if (!certFile && !keyFile) {
    if (clientCaFile) {
      throw new EndpointSecretError(
        names.clientCaFile,
        `needs ${names.certFile} and ${names.keyFile}: client certificates are verified only over TLS`
      )
    }
    return undefined
  }
  if (!certFile) return missing(names.certFile, names.keyFile)
  if (!keyFile) return missing(names.keyFile, names.certFile)
  const tls: ServerTls = { cert: readPemFile(names.certFile, certFile), key: readPemFile(names.keyFile, keyFile) }
  if (clientCaFile) tls.clientCa = readPemFile(names.clientCaFile, clientCaFile)
  return tls
}

/** Node `https` / fastify options for the material: with a client CA, a client without a valid certificate is cut off. */
export function httpsOptions(
  tls: ServerTls
): Pick<ServerOptions, 'cert' | 'key' | 'ca' | 'requestCert' | 'rejectUnauthorized'> {
  if (!tls.clientCa) return { cert: tls.cert, key: tls.key }
  return { cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }
}

function missing(absent: string, given: string): never {
  throw new EndpointSecretError(absent, `required with ${given}: a TLS listener needs its certificate and its key`)
}
