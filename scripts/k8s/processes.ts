/**
 * The local cluster's processes: each started with its output in a log file of the cluster's folder, and stopped
 * with SIGTERM, then SIGKILL after a grace period. A process that exits on its own is reported with its log's tail,
 * so a component that refuses its flags says why at once.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'

export class K8sProcessError extends Error {
  readonly code = 'STREAMLANE_K8S_PROCESS'
}

export interface ManagedProcess {
  name: string
  pid: number
  logFile: string
  /** Resolves when it exited (its code, or the signal's name). */
  exited: Promise<string>
  stop(graceMs?: number): Promise<void>
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/** Children still running: killed if this process exits without stopping them (a crash must not leave a cluster). */
const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/** SIGKILLs `child` if this process exits while it still runs. */
export function killOnExit(child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
}

export function startProcess(
  logDir: string,
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env
): ManagedProcess {
  const logFile = join(logDir, `${name}.log`)
  const fd = openSync(logFile, 'a')
  let child: ChildProcess
  try {
    child = spawn(command, args, { stdio: ['ignore', fd, fd], env })
  } finally {
    closeSync(fd)
  }
  killOnExit(child)
  let exitedWith: string | undefined
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => {
      exitedWith = `error: ${error.message}`
      resolve(exitedWith)
    })
    child.once('exit', (code, signal) => {
      exitedWith = signal ?? String(code)
      resolve(exitedWith)
    })
  })
  return {
    name,
    pid: child.pid ?? -1,
    logFile,
    exited,
    async stop(graceMs = 15_000) {
      if (exitedWith !== undefined) return
      child.kill('SIGTERM')
      const killed = await Promise.race([exited.then(() => true), delay(graceMs).then(() => false)])
      if (!killed) {
        child.kill('SIGKILL')
        await exited
      }
    }
  }
}

/**
 * Polls `check` until it resolves true, failing with `what` and the process's log tail when it exits first or the
 * deadline passes.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; process?: ManagedProcess; intervalMs?: number }
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  let exited: string | undefined
  void options.process?.exited.then((how) => {
    exited = how
  })
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      const proc = options.process!
      throw new K8sProcessError(
        `${proc.name} exited (${exited}) before ${what}; ${proc.logFile}:\n${tail(proc.logFile)}`
      )
    }
    if (await check().catch(() => false)) return
    await delay(options.intervalMs ?? 250)
  }
  const log = options.process ? `; ${options.process.logFile}:\n${tail(options.process.logFile)}` : ''
  throw new K8sProcessError(`timed out after ${options.timeoutMs} ms waiting for ${what}${log}`)
}
