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
 * Serves a renewed certificate without a restart: when the listener's certificate, key or client CA file changes,
 * they are read again and, once they make a valid pair (a certificate and a key written one after the other match
 * only after the second write), swapped into the server. New connections get the new certificate; open ones keep
 * theirs. A pair that does not load keeps the old one and is reported through `onReload` (without any key material).
 */
export function reloadTlsOnChange(
  server: ReloadableTlsServer,
  files: ServerTlsFiles,
  names: Record<keyof ServerTlsFiles, string>,
  options: { intervalMs?: number; onReload?: (outcome: TlsReloadOutcome) => void } = {}
): FileWatch {
  const paths = [files.certFile, files.keyFile, files.clientCaFile].filter((f): f is string => !!f)
  return watchFiles(
    paths,
    () => {
      let tls: ServerTls | undefined
      try {
        tls = loadServerTls(files, names)
        if (!tls) return
        const context = httpsOptions(tls)
        createSecureContext(context) // throws on a key that does not match the certificate
        server.setSecureContext(context)
      } catch (error) {
        options.onReload?.({ loaded: false, error: error instanceof Error ? error : new Error(String(error)) })
        return
      }
      options.onReload?.({ loaded: true })
    },
    options.intervalMs
  )
}
