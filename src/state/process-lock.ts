import { randomUUID } from 'node:crypto'
import { linkSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { type LockHolder, messageOf, StateDirectoryLockedError, StateLifecycleError } from './errors.ts'
import type { StateLogger } from './state-logger.ts'

/**
 * The lock file that makes one process the only writer of an application's state directory. Two processes on the
 * same LMDB files would each believe they own the tasks and corrupt them; with the lock, the second gets an error
 * that names the directory and the holder.
 *
 * A lock outlives a crash, so a lock is taken over (with a warning) when its holder is provably gone:
 * - same host, and its pid is not running, or runs a process that started at another time (a restarted container
 *   reuses its pids: without this, pid 1 of the new container would look like the old holder), or the host
 *   rebooted since (boot id), or the pid is our own but the lock is not;
 * - another host (a volume that moved with a rescheduled pod): the holder refreshes the file's mtime while it runs
 *   (`refresh()`, on the runtime's commit loop), so a lock not refreshed for `foreignStaleMs` is abandoned.
 *
 * The file is created with its content in one step (written aside, then hard-linked into place, which fails if the
 * lock exists), so a reader never sees a half-written lock.
 */
export const LOCK_FILE = '.lock'

/** Locks this process holds, by token: how it tells its own lock from a previous incarnation's with the same pid. */
const heldTokens = new Set<string>()

export interface ProcessLockOptions {
  readonly logger: StateLogger
  /** How long a lock from another host may go without a refresh before it counts as abandoned. Default 60 s. */
  readonly foreignStaleMs?: number
}

export class ProcessLock {
  readonly path: string
  readonly holder: LockHolder
  #released = false
  #refreshedAt = 0

  private constructor(path: string, holder: LockHolder) {
    this.path = path
    this.holder = holder
  }

  static acquire(path: string, directory: string, options: ProcessLockOptions): ProcessLock {
    const holder: LockHolder = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: new Date().toISOString(),
      token: randomUUID(),
      ...bootIdField(),
      ...processStartField(process.pid)
    }
    const foreignStaleMs = options.foreignStaleMs ?? 60_000
    for (let attempt = 0; attempt < 5; attempt++) {
      if (tryCreate(path, holder)) {
        heldTokens.add(holder.token)
        return new ProcessLock(path, holder)
      }
      const current = readHolder(path)
      if (current === 'missing') continue
      const stale =
        current === 'unreadable' ? 'its lock file is unreadable' : staleReason(path, current, foreignStaleMs)
      if (stale === null) {
        const existing = current as LockHolder
        const detail = heldTokens.has(existing.token)
          ? 'this process already holds it (open the state directory once per process)'
          : existing.hostname === holder.hostname
            ? 'that process is running'
            : `that host refreshed the lock ${Math.round(ageMs(path) / 1000)} s ago (abandoned after ${foreignStaleMs / 1000} s)`
        throw new StateDirectoryLockedError(directory, existing, detail)
      }
      if (takeOver(path, current, holder.token)) {
        options.logger.warn(
          { directory, previousHolder: current === 'unreadable' ? null : current, reason: stale },
          `taking over the state directory lock: ${stale}`
        )
      }
    }
    throw new StateLifecycleError(`could not lock state directory ${directory}: the lock kept changing hands`)
  }

  /** Proves this holder is alive to processes on other hosts. Cheap (one utimes, at most every 5 s). */
  refresh(): void {
    if (this.#released || Date.now() - this.#refreshedAt < 5_000) return
    this.#refreshedAt = Date.now()
    const now = new Date()
    try {
      utimesSync(this.path, now, now)
    } catch {
      // A vanished lock file is re-created on the next start; nothing useful to do here.
    }
  }

  release(): void {
    if (this.#released) return
    this.#released = true
    heldTokens.delete(this.holder.token)
    const current = readHolder(this.path)
    if (typeof current === 'object' && current.token === this.holder.token) rmSync(this.path, { force: true })
  }
}

function bootIdField(): { bootId?: string } {
  try {
    return { bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() }
  } catch {
    return {}
  }
}

/** Field 22 of /proc/<pid>/stat (start time); the fields after the command name, which may hold spaces, count from 3. */
function processStartField(pid: number): { processStart?: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
    return start === undefined ? {} : { processStart: start }
  } catch {
    return {}
  }
}

function tryCreate(path: string, holder: LockHolder): boolean {
  const aside = `${path}.${holder.token}`
  writeFileSync(aside, `${JSON.stringify(holder)}\n`)
  try {
    linkSync(aside, path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    rmSync(aside, { force: true })
  }
}

function readHolder(path: string): LockHolder | 'missing' | 'unreadable' {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable'
  }
  try {
    const parsed = JSON.parse(text) as LockHolder
    if (!Number.isInteger(parsed.pid) || typeof parsed.hostname !== 'string' || typeof parsed.token !== 'string') {
      return 'unreadable'
    }
    return parsed
  } catch {
    return 'unreadable'
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs
  } catch {
    return 0
  }
}

/** Why the holder is certainly gone, or `null` when it may be alive. */
function staleReason(path: string, holder: LockHolder, foreignStaleMs: number): string | null {
  if (heldTokens.has(holder.token)) return null
  if (holder.hostname !== hostname()) {
    const age = ageMs(path)
    return age > foreignStaleMs ? `host ${holder.hostname} has not refreshed it for ${Math.round(age / 1000)} s` : null
  }
  const bootId = bootIdField().bootId
  if (bootId !== undefined && holder.bootId !== undefined && bootId !== holder.bootId) {
    return `process ${holder.pid} ran before this host rebooted`
  }
  if (holder.pid === process.pid) return `process ${holder.pid} is this process's previous incarnation`
  try {
    process.kill(holder.pid, 0)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // EPERM: the pid runs under another user, so it is alive.
    return code === 'ESRCH' ? `process ${holder.pid} is not running` : null
  }
  const running = processStartField(holder.pid).processStart
  if (running !== undefined && holder.processStart !== undefined && running !== holder.processStart) {
    return `pid ${holder.pid} now belongs to another process (started later than the holder)`
  }
  return null
}

/**
 * Moves the stale lock aside and checks that what moved is the lock judged stale: if a live process replaced it in
 * the meantime, its lock is put back (hard link, which fails when yet another lock appeared) and the caller retries.
 */
function takeOver(path: string, stale: LockHolder | 'unreadable', token: string): boolean {
  const aside = `${path}.stale-${token}`
  try {
    renameSync(path, aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw new StateLifecycleError(`cannot take over lock ${path}: ${messageOf(error)}`)
  }
  const moved = readHolder(aside)
  const same =
    stale === 'unreadable' ? moved === 'unreadable' : typeof moved === 'object' && moved.token === stale.token
  if (!same) {
    try {
      linkSync(aside, path)
    } catch {
      // Another lock is in place already; the retry will read it.
    }
  }
  rmSync(aside, { force: true })
  return same
}
