import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import type { ChangelogCheckpoint } from './bytes-store.ts'
import { checkpointPath, readCheckpointFile, writeFileAtomically } from './checkpoint-file.ts'
import { messageOf, StateLifecycleError, TaskDirectoryLockedError } from './errors.ts'
import { LMDB_FILE } from './lmdb-environment.ts'
import { checkLmdbFile, verifyLmdbDeep } from './lmdb-file-check.ts'
import { LOCK_FILE, ProcessLock } from './process-lock.ts'
import { type StateLogger, stderrStateLogger } from './state-logger.ts'

/**
 * The state directory of one application in one process: `<stateDir>/<appId>/`, holding
 *
 *   .lock                       which process owns the directory (process-lock.ts)
 *   streamlane-process.json     this instance's process id, stable across restarts (the assignor's member identity)
 *   <taskId>/stores.lmdb        the task's LMDB file (one named database per persistent store)
 *   <taskId>/.checkpoint        changelog offsets on disk, readable without LMDB (checkpoint-file.ts)
 *   <taskId>/.open              present while the task is open: found at start, the last run did not close it
 *
 * It leases task directories to tasks (one lease per task per process), checks them before they are opened,
 * reports what each holds, and deletes the directories of tasks this instance no longer owns.
 */
export const PROCESS_FILE = 'streamlane-process.json'
export const OPEN_MARKER = '.open'
const TASK_DIR = /^\d+_\d+$/

export interface StateDirectoryOptions {
  readonly stateDir: string
  readonly applicationId: string
  readonly logger?: StateLogger
  /** Directories of tasks not owned for this long are deleted by `cleanRemovedTasks`. Default 10 min. */
  readonly stateCleanupDelayMs?: number
  /** See `ProcessLockOptions.foreignStaleMs`. */
  readonly foreignLockStaleMs?: number
  /**
   * Walk an LMDB file in a child process before opening it: 'unclean' (default) after a run that did not close the
   * task, 'always', or 'never'. LMDB survives process crashes by design; the walk guards against damaged disks.
   */
  readonly verifyOnOpen?: 'unclean' | 'always' | 'never'
  /** Longest deep walk; a walk that does not finish in time leaves the file as it is. Default 120 s. */
  readonly verifyTimeoutMs?: number
  /** The clock, for tests. */
  readonly now?: () => number
}

export interface TaskDirectoryInfo {
  readonly taskId: string
  readonly path: string
  /** From the checkpoint file: what the task's persistent stores hold. Empty when unknown. */
  readonly checkpoints: readonly ChangelogCheckpoint[]
  readonly lastModifiedMs: number
  /** Leased by a task of this process right now. */
  readonly inUse: boolean
}

/** A task's exclusive use of its directory inside this process. */
export interface TaskDirectoryLease {
  readonly taskId: string
  readonly path: string
  release(): void
}

export class StateDirectory {
  readonly appDir: string
  readonly processId: string
  readonly logger: StateLogger
  readonly #options: StateDirectoryOptions
  readonly #lock: ProcessLock
  readonly #leases = new Map<string, TaskDirectoryLease>()
  readonly #now: () => number
  #closed = false

  private constructor(appDir: string, options: StateDirectoryOptions, lock: ProcessLock, processId: string) {
    this.appDir = appDir
    this.#options = options
    this.#lock = lock
    this.processId = processId
    this.logger = options.logger ?? stderrStateLogger
    this.#now = options.now ?? Date.now
  }

  /** Creates the directory if needed, locks it for this process and reads (or makes) the process id. */
  static open(options: StateDirectoryOptions): StateDirectory {
    const logger = options.logger ?? stderrStateLogger
    const appDir = join(options.stateDir, options.applicationId)
    mkdirSync(appDir, { recursive: true })
    const lock = ProcessLock.acquire(join(appDir, LOCK_FILE), appDir, {
      logger,
      ...(options.foreignLockStaleMs === undefined ? {} : { foreignStaleMs: options.foreignLockStaleMs })
    })
    try {
      return new StateDirectory(appDir, options, lock, readOrCreateProcessId(appDir, logger))
    } catch (error) {
      lock.release()
      throw error
    }
  }

  taskDir(taskId: string): string {
    return join(this.appDir, taskId)
  }

  /** Leases the task's directory (creating it). Throws `TaskDirectoryLockedError` if a task of this process has it. */
  lockTask(taskId: string): TaskDirectoryLease {
    this.#ensureOpen()
    const path = this.taskDir(taskId)
    if (this.#leases.has(taskId)) throw new TaskDirectoryLockedError(taskId, path)
    mkdirSync(path, { recursive: true })
    const lease: TaskDirectoryLease = {
      taskId,
      path,
      release: () => {
        if (this.#leases.get(taskId) !== lease) return
        this.#leases.delete(taskId)
        // The cleanup delay counts from the moment the task left this instance.
        touch(path, this.#now())
      }
    }
    this.#leases.set(taskId, lease)
    return lease
  }

  /**
   * Leases the task's directory and checks its files before any store maps them: an LMDB file that fails the
   * checks is wiped (with a warning) so the task restores from its changelog instead of crashing the process; an
   * unreadable checkpoint file is deleted (LMDB keeps its own checkpoints). Never throws for a damaged file.
   */
  async prepareTask(taskId: string): Promise<TaskDirectoryLease> {
    const lease = this.lockTask(taskId)
    try {
      const lmdbPath = join(lease.path, LMDB_FILE)
      const unclean = existsSync(join(lease.path, OPEN_MARKER))
      let problem: string | null = null
      const cheap = checkLmdbFile(lmdbPath)
      if (!cheap.ok) problem = cheap.reason
      const mode = this.#options.verifyOnOpen ?? 'unclean'
      if (problem === null && existsSync(lmdbPath) && (mode === 'always' || (mode === 'unclean' && unclean))) {
        const deep = await verifyLmdbDeep(lmdbPath, this.#options.verifyTimeoutMs ?? 120_000)
        if (!deep.ok) problem = deep.reason
        else if (deep.timedOut) this.logger.warn({ task: taskId, path: lmdbPath }, 'state store verification timed out')
      }
      if (problem !== null) this.wipeTaskFiles(taskId, `${lmdbPath}: ${problem}`)
      try {
        readCheckpointFile(checkpointPath(lease.path))
      } catch (error) {
        this.logger.warn({ task: taskId, error: messageOf(error) }, 'deleting an unreadable checkpoint file')
        rmSync(checkpointPath(lease.path), { force: true })
      }
      return lease
    } catch (error) {
      lease.release()
      throw error
    }
  }

  /**
   * Deletes a task's state files (keeping the directory, and any lease on it), with a warning: the task's stores
   * restore from their changelogs from the beginning. For corrupted stores; the task must not have them open.
   */
  wipeTaskFiles(taskId: string, reason: string): void {
    const path = this.taskDir(taskId)
    this.logger.warn(
      { task: taskId, path, reason },
      'wiping corrupted task state; it will be restored from the changelog'
    )
    for (const name of existsSync(path) ? readdirSync(path) : [])
      rmSync(join(path, name), { recursive: true, force: true })
  }

  /** Every task directory with what its checkpoint file says, for lag reporting and cleanup. */
  listTaskDirs(): TaskDirectoryInfo[] {
    this.#ensureOpen()
    const result: TaskDirectoryInfo[] = []
    for (const entry of readdirSync(this.appDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !TASK_DIR.test(entry.name)) continue
      const path = join(this.appDir, entry.name)
      let checkpoints: ChangelogCheckpoint[] = []
      try {
        checkpoints = readCheckpointFile(checkpointPath(path))
      } catch (error) {
        this.logger.warn({ task: entry.name, error: messageOf(error) }, 'ignoring an unreadable checkpoint file')
      }
      result.push({
        taskId: entry.name,
        path,
        checkpoints,
        lastModifiedMs: lastModified(path),
        inUse: this.#leases.has(entry.name)
      })
    }
    return result.sort((a, b) => a.taskId.localeCompare(b.taskId, 'en', { numeric: true }))
  }

  /**
   * Deletes directories of tasks that are neither `owned` nor leased and were last touched more than
   * `stateCleanupDelayMs` ago (a task that comes back soon still finds its state). Returns the deleted task ids.
   */
  cleanRemovedTasks(owned: Iterable<string>): string[] {
    const keep = new Set(owned)
    const delay = this.#options.stateCleanupDelayMs ?? 600_000
    const removed: string[] = []
    for (const dir of this.listTaskDirs()) {
      if (dir.inUse || keep.has(dir.taskId)) continue
      const idleMs = this.#now() - dir.lastModifiedMs
      if (idleMs <= delay) continue
      try {
        rmSync(dir.path, { recursive: true, force: true })
        removed.push(dir.taskId)
        this.logger.info({ task: dir.taskId, idleMs }, 'deleted the state of a task this instance no longer owns')
      } catch (error) {
        this.logger.warn({ task: dir.taskId, error: messageOf(error) }, 'could not delete obsolete task state')
      }
    }
    return removed
  }

  /** Keeps the process lock fresh for other hosts; call it on the commit loop (it rate-limits itself). */
  refreshLock(): void {
    this.#lock.refresh()
  }

  /** Releases the process lock. Every task must have released its lease. */
  close(): void {
    if (this.#closed) return
    if (this.#leases.size > 0) {
      throw new StateLifecycleError(
        `closing state directory ${this.appDir} while tasks ${[...this.#leases.keys()].join(', ')} are open`
      )
    }
    this.#closed = true
    this.#lock.release()
  }

  #ensureOpen(): void {
    if (this.#closed) throw new StateLifecycleError(`state directory ${this.appDir} is closed`)
  }
}

function readOrCreateProcessId(appDir: string, logger: StateLogger): string {
  const path = join(appDir, PROCESS_FILE)
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { processId?: unknown }
    if (typeof parsed.processId === 'string' && /^[0-9a-f-]{36}$/i.test(parsed.processId)) return parsed.processId
    logger.warn({ path }, 'the process file holds no valid process id; making a new one')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn({ path, error: messageOf(error) }, 'the process file is unreadable; making a new process id')
    }
  }
  const processId = randomUUID()
  writeFileAtomically(path, `${JSON.stringify({ processId, createdAt: new Date().toISOString() })}\n`)
  return processId
}

/** The newest mtime of the directory and its files: LMDB writes do not touch the directory's own mtime. */
function lastModified(dir: string): number {
  let newest = statSync(dir).mtimeMs
  for (const name of readdirSync(dir)) {
    try {
      newest = Math.max(newest, statSync(join(dir, name)).mtimeMs)
    } catch {
      // deleted meanwhile
    }
  }
  return newest
}

function touch(path: string, nowMs: number): void {
  try {
    const time = new Date(nowMs)
    utimesSync(path, time, time)
  } catch {
    // A directory deleted meanwhile needs no timestamp.
  }
}
