/**
 * What every Streamlane endpoint (the app's metrics/health port, the scaler's gRPC and HTTP ports, the local
 * autoscaler's report endpoint) uses to close its door: bearer tokens compared in constant time, secrets and PEM
 * files read from mounted files, TLS listener material, and the request guard for fastify.
 */
export { type BearerToken, bearerOf, parseTokens, type TokenMatch, tokenChecker } from './bearer-token.ts'
export { EndpointSecretError } from './errors.ts'
export { type AccessRule, grantOf, guardRequests, type TokenGuardOptions } from './request-guard.ts'
export { readPemFile, readSecret } from './secret-file.ts'
export { httpsOptions, loadServerTls, type ServerTls, type ServerTlsFiles } from './server-tls.ts'
export {
  type FileWatch,
  logTlsReload,
  type ReloadableTlsServer,
  reloadTlsOnChange,
  TLS_RELOAD_INTERVAL_MS,
  type TlsReloadLogger,
  type TlsReloadOutcome,
  watchFiles,
  watchServerTls
} from './tls-reload.ts'
