import type { SecureContextOptions } from 'node:tls'
import * as grpc from '@grpc/grpc-js'
import type { ServerTls } from '../../endpoint/index.ts'

/**
 * The gRPC server's credentials, whose certificate can be swapped while the server runs: grpc-js builds its HTTP/2
 * server from the credentials' secure context and calls `setSecureContext` on it whenever the credentials publish a
 * new one (the mechanism behind its own certificate providers). `createSsl` has no way to publish one, so this class
 * does what `createSsl` does (a client CA turns on client certificates, which are then required) and adds `update`.
 * New connections get the new certificate; open ones (KEDA's, with their streams) keep theirs.
 */
export class ReloadableServerCredentials extends grpc.ServerCredentials {
  constructor(tls: ServerTls) {
    // With `requestCert`, node's default `rejectUnauthorized: true` cuts off a caller without a valid certificate.
    super({ requestCert: tls.clientCa !== undefined }, contextOf(tls))
  }

  /** Serves `tls` to new connections (the file watch has checked that the certificate and key match). */
  update(tls: ServerTls): void {
    this.updateSecureContextOptions(contextOf(tls))
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this
  }
}

function contextOf(tls: ServerTls): SecureContextOptions {
  return { cert: tls.cert, key: tls.key, ...(tls.clientCa ? { ca: tls.clientCa } : {}) }
}
