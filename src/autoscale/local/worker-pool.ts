import { type ChildProcess, spawn } from 'node:child_process'
import { WorkerCommandError } from './errors.ts'
import type { WorkerObservation, WorkerPhase } from './step.ts'
import { instanceIdFor, WORKER_ENV } from './worker-identity.ts'

/** Structured logger, pino-compatible. */
export interface LocalLogger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}

export interface WorkerPoolOptions {
  command: string
  args: readonly string[]
  groupId: string
  /** The environment every worker inherits; the pool adds the identity variables of worker-identity.ts. */
  env: NodeJS.ProcessEnv
  cwd?: string
  /** How long a worker has between SIGTERM and SIGKILL. */
  graceMs: number
  logger: LocalLogger
  /** Workers' stdout / stderr: shared with the scaler (default) or discarded. */
  output?: 'inherit' | 'ignore'
  now?: () => number
  /** A worker exited (asked to or not): lets the loop look again without waiting for its next tick. */
  onExit?: (exit: { slot: number; instanceId: string; atMs: number }) => void
  /** The command cannot be started at all (not found, not executable). */
  onFatal?: (error: WorkerCommandError) => void
}

interface Worker {
  slot: number
  incarnation: number
  id: string
  child: ChildProcess
  phase: WorkerPhase
  startedAtMs: number
  exitedAtMs?: number
  stopAtMs?: number
  killTimer?: NodeJS.Timeout
  killed: boolean
  exited: Promise<void>
}

/**
 * The worker processes of one local scaler, by slot. This is the only part that spawns and signals; what to start or
 * stop is decided by step.ts. Scale-in is SIGTERM to the worker (as Kubernetes does to a pod), then SIGKILL to its
 * whole process group once the grace period is over. Workers run in their own process group so that a Ctrl-C in the
 * terminal reaches the scaler alone, which then stops them in order instead of all at once.
 */
export class WorkerPool {
  readonly #o: WorkerPoolOptions
  readonly #now: () => number
  readonly #workers = new Map<number, Worker>()
  readonly #incarnations = new Map<number, number>()

  constructor(options: WorkerPoolOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  observe(): WorkerObservation[] {
    return [...this.#workers.values()]
      .sort((a, b) => a.slot - b.slot)
      .map((w) => ({
        slot: w.slot,
        incarnation: w.incarnation,
        phase: w.phase,
        startedAtMs: w.startedAtMs,
        ...(w.exitedAtMs !== undefined ? { exitedAtMs: w.exitedAtMs } : {})
      }))
  }

  /** Pids by slot of the workers that are alive, for status output and tests. */
  pids(): Record<number, number> {
    const out: Record<number, number> = {}
    for (const w of this.#workers.values()) if (w.phase !== 'exited' && w.child.pid) out[w.slot] = w.child.pid
    return out
  }

  start(slot: number, reason: string, extraEnv: Record<string, string> = {}): void {
    const existing = this.#workers.get(slot)
    if (existing && existing.phase !== 'exited') return
    const incarnation = (this.#incarnations.get(slot) ?? 0) + 1
    this.#incarnations.set(slot, incarnation)
    const id = instanceIdFor(this.#o.groupId, slot)
    const env: NodeJS.ProcessEnv = {
      ...this.#o.env,
      ...extraEnv,
      [WORKER_ENV.instanceId]: id,
      [WORKER_ENV.index]: String(slot),
      [WORKER_ENV.groupId]: this.#o.groupId,
      [WORKER_ENV.leaveGroupOnClose]: 'true'
    }
    const output = this.#o.output ?? 'inherit'
    const child = spawn(this.#o.command, [...this.#o.args], {
      env,
      cwd: this.#o.cwd,
      stdio: ['ignore', output, output],
      detached: true
    })
    const exited = Promise.withResolvers<void>()
    const worker: Worker = {
      slot,
      incarnation,
      id,
      child,
      phase: 'running',
      startedAtMs: this.#now(),
      killed: false,
      exited: exited.promise
    }
    this.#workers.set(slot, worker)
    child.once('error', (error: NodeJS.ErrnoException) => {
      // Without a pid the process never existed: 'exit' will not follow, so this is its exit.
      if (child.pid !== undefined) {
        this.#o.logger.warn({ worker: id, slot, pid: child.pid, err: error.message }, `worker ${id}: ${error.message}`)
        return
      }
      this.#exited(worker, null, null, error)
      exited.resolve()
      if (error.code === 'ENOENT' || error.code === 'EACCES') {
        this.#o.onFatal?.(
          new WorkerCommandError(
            this.#o.command,
            error.code === 'ENOENT' ? 'not found (check the command after --, and PATH)' : 'permission denied',
            { cause: error }
          )
        )
      }
    })
    child.once('exit', (code, signal) => {
      this.#exited(worker, code, signal)
      exited.resolve()
    })
    this.#o.logger.info(
      { worker: id, slot, incarnation, pid: child.pid ?? null, command: this.#o.command, args: this.#o.args, reason },
      `worker ${id} started (${reason})`
    )
  }

  /** SIGTERM now, SIGKILL to the process group after the grace period; the record goes once the process exits. */
  stop(slot: number, reason: string, graceMs = this.#o.graceMs): void {
    const worker = this.#workers.get(slot)
    if (!worker) return
    if (worker.phase === 'exited') {
      this.#workers.delete(slot)
      return
    }
    if (worker.phase === 'stopping') return
    worker.phase = 'stopping'
    worker.stopAtMs = this.#now()
    this.#o.logger.info(
      { worker: worker.id, slot, pid: worker.child.pid, graceMs, reason },
      `worker ${worker.id}: SIGTERM (${reason})`
    )
    signal(worker.child, 'SIGTERM', false)
    worker.killTimer = setTimeout(() => {
      if (worker.exitedAtMs !== undefined) return
      worker.killed = true
      this.#o.logger.warn(
        { worker: worker.id, slot, pid: worker.child.pid, graceMs },
        `worker ${worker.id} did not exit within ${graceMs} ms of SIGTERM: SIGKILL`
      )
      signal(worker.child, 'SIGKILL', true)
    }, graceMs)
  }

  /** Drops the record of a crashed worker that will not be restarted. */
  forget(slot: number): void {
    if (this.#workers.get(slot)?.phase === 'exited') this.#workers.delete(slot)
  }

  /** Stops every worker at once (the scaler is shutting down) and waits until all have exited. */
  async stopAll(reason: string, graceMs = this.#o.graceMs): Promise<void> {
    const waits: Promise<void>[] = []
    for (const worker of [...this.#workers.values()]) {
      if (worker.phase === 'exited') {
        this.#workers.delete(worker.slot)
        continue
      }
      this.stop(worker.slot, reason, graceMs)
      waits.push(worker.exited)
    }
    await Promise.all(waits)
  }

  /** SIGKILL to every worker's process group, at once (a second Ctrl-C). */
  killAll(): void {
    for (const worker of this.#workers.values()) {
      if (worker.phase !== 'exited') signal(worker.child, 'SIGKILL', true)
    }
  }

  get size(): number {
    return this.#workers.size
  }

  #exited(worker: Worker, code: number | null, signalName: NodeJS.Signals | null, error?: Error): void {
    if (worker.exitedAtMs !== undefined) return
    clearTimeout(worker.killTimer)
    worker.exitedAtMs = this.#now()
    const fields = {
      worker: worker.id,
      slot: worker.slot,
      pid: worker.child.pid ?? null,
      code,
      signal: signalName,
      ranMs: worker.exitedAtMs - worker.startedAtMs
    }
    if (worker.phase === 'stopping') {
      const stopMs = worker.exitedAtMs - (worker.stopAtMs ?? worker.exitedAtMs)
      this.#o.logger.info(
        { ...fields, stopMs, killed: worker.killed },
        `worker ${worker.id} stopped in ${stopMs} ms${worker.killed ? ' (killed after the grace period)' : ''}`
      )
      if (this.#workers.get(worker.slot) === worker) this.#workers.delete(worker.slot)
    } else {
      worker.phase = 'exited'
      const how = error
        ? `failed to start: ${error.message}`
        : `exited unexpectedly (code ${code}, signal ${signalName})`
      this.#o.logger.error({ ...fields, ...(error ? { err: error.message } : {}) }, `worker ${worker.id} ${how}`)
    }
    this.#o.onExit?.({ slot: worker.slot, instanceId: worker.id, atMs: worker.exitedAtMs })
  }
}

/** To the worker itself, or (SIGKILL) to its whole process group so that nothing it started outlives it. */
function signal(child: ChildProcess, name: NodeJS.Signals, group: boolean): void {
  if (child.pid === undefined) return
  try {
    if (group) process.kill(-child.pid, name)
    else child.kill(name)
  } catch {
    // Already gone: its 'exit' event is on its way.
  }
}
