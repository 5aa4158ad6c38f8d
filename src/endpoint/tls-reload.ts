import { unwatchFile, watchFile } from 'node:fs'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import { httpsOptions, loadServerTls, type ServerTls, type ServerTlsFiles } from './server-tls.ts'

/** How often the files are looked at (a stat each): a renewed certificate is served within about this long. */
export const TLS_RELOAD_INTERVAL_MS = 2_000

/** Stops watching. */
export interface FileWatch {
  close(): void
}

/**
 * Calls `onChange` when any of the files changes (content, or the file a symlink points to: a Kubernetes Secret
 * mount swaps a `..data` symlink). Polls with stat, which sees through symlinks and needs no inotify; the watch
 * keeps no process alive.
 */
export function watchFiles(
  files: readonly string[],
  onChange: () => void,
  intervalMs = TLS_RELOAD_INTERVAL_MS
): FileWatch {
  const listener = (current: { mtimeMs: number; ino: number }, previous: { mtimeMs: number; ino: number }) => {
    if (current.mtimeMs !== previous.mtimeMs || current.ino !== previous.ino) onChange()
  }
  for (const file of files) watchFile(file, { interval: intervalMs, persistent: false }, listener)
  return {
    close: () => {
      for (const file of files) unwatchFile(file, listener)
    }
  }
}

/** What a reload did: `loaded` the new pair is served; `kept` the files did not load and the old pair stays. */
export type TlsReloadOutcome = { loaded: true } | { loaded: false; error: Error }

/** A TLS listener whose certificate can be swapped while it runs (node's tls, https and http2 servers). */
export interface ReloadableTlsServer {
  setSecureContext(options: SecureContextOptions): void
}

/**
 * Watches a listener's certificate, key and client CA files and, when they change, reads them again and hands the
 * material to `apply` once it makes a valid pair (a certificate and a key written one after the other match only after
 * the second write). A pair that does not load changes nothing and is reported through `onReload` (without any key
 * material). The one definition of "reload TLS on change" for every endpoint: the app's HTTP server, the scaler's gRPC
 * and HTTP ports.
 */
export function watchServerTls(
  files: ServerTlsFiles,
  names: Record<keyof ServerTlsFiles, string>,
  apply: (tls: ServerTls) => void,
  options: { intervalMs?: number; onReload?: (outcome: TlsReloadOutcome) => void } = {}
): FileWatch {
  const paths = [files.certFile, files.keyFile, files.clientCaFile].filter((f): f is string => !!f)
  return watchFiles(
    paths,
    () => {
      try {
        const tls = loadServerTls(files, names)
        if (!tls) return
        createSecureContext(httpsOptions(tls)) // throws on a key that does not match the certificate
        apply(tls)
      } catch (error) {
        options.onReload?.({ loaded: false, error: error instanceof Error ? error : new Error(String(error)) })
        return
      }
      options.onReload?.({ loaded: true })
    },
    options.intervalMs
  )
}

/**
 * Serves a renewed certificate without a restart (watchServerTls on a node tls, https or http2 server): new
 * connections get the new certificate; open ones keep theirs.
 */
export function reloadTlsOnChange(
  server: ReloadableTlsServer,
  files: ServerTlsFiles,
  names: Record<keyof ServerTlsFiles, string>,
  options: { intervalMs?: number; onReload?: (outcome: TlsReloadOutcome) => void } = {}
): FileWatch {
  return watchServerTls(files, names, (tls) => server.setSecureContext(httpsOptions(tls)), options)
}

/** Where reload outcomes are told: the app's and the scaler's pino loggers fit. */
export interface TlsReloadLogger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
}

/** An `onReload` that logs each outcome once, naming the endpoint (`what`) and never any key material. */
export function logTlsReload(logger: TlsReloadLogger, what: string): (outcome: TlsReloadOutcome) => void {
  return (outcome) => {
    if (outcome.loaded) logger.info({}, `${what} TLS files changed: new connections get the new certificate`)
    else logger.warn({ reason: outcome.error.message }, `${what} TLS files changed but do not load: kept the old ones`)
  }
}
