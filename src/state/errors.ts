import type { StreamlaneErrorCode } from '../error-codes.ts'
import { StreamlaneError } from '../errors.ts'

/**
 * Errors of the state layer. Codes are stable (`STREAMLANE_STATE_*`); messages name the store, the task and the
 * directory at fault so an operator can act without reading code.
 */

/** A store used wrongly: before `init`, after `close`, with a null key, with arguments that make no sense. */
export class StateStoreError extends StreamlaneError {
  readonly store: string

  constructor(store: string, message: string, options?: { cause?: unknown; code?: StreamlaneErrorCode }) {
    super(options?.code ?? 'STREAMLANE_STATE_STORE_INVALID_USE', `state store ${store}: ${message}`, options)
    this.store = store
  }
}

/** A store is not open: not yet initialised, already closed, or its task was handed away. */
export class StoreNotOpenError extends StateStoreError {
  constructor(store: string, state: string) {
    super(store, `the store is ${state}; stores are usable between init() and close() of their task`, {
      code: 'STREAMLANE_STATE_STORE_NOT_OPEN'
    })
  }
}

/** A key or argument a store cannot accept (null key, oversized key, negative window start, ...). */
export class InvalidStoreArgumentError extends StateStoreError {
  constructor(store: string, message: string) {
    super(store, message, { code: 'STREAMLANE_STATE_INVALID_ARGUMENT' })
  }
}

/**
 * A persistent store was initialised without a `TaskStateManager`, so it has no directory to live in. The runtime and
 * the test driver open stores through `TaskStateManager.createStore`.
 */
export class StoreNotAttachedError extends StateStoreError {
  constructor(store: string) {
    super(
      store,
      'the store is persistent and needs a task state directory: create it with TaskStateManager.createStore(builder) ' +
        '(pass that as TaskProcessorGraphOptions.createStore) or build it with persistent: false',
      { code: 'STREAMLANE_STATE_STORE_NOT_ATTACHED' }
    )
  }
}

/**
 * The data of a store cannot be trusted: an LMDB file that is truncated or garbled, a read that hit a missing page.
 * The runtime closes the task without committing, wipes the task directory and restores from the changelog.
 */
export class StoreCorruptedError extends StreamlaneError {
  readonly path: string

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super('STREAMLANE_STATE_STORE_CORRUPTED', `state at ${path} is corrupted: ${reason}`, options)
    this.path = path
  }
}

/** Who holds a state directory, as written in its lock file. */
export interface LockHolder {
  readonly pid: number
  readonly hostname: string
  readonly startedAt: string
  readonly token: string
  readonly bootId?: string
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid from the holder. */
  readonly processStart?: string
}

/**
 * Another live process holds the application's state directory. Two processes writing the same LMDB files would
 * corrupt them, so this is fatal: give each instance its own `stateDir` (on Kubernetes: its own volume).
 */
export class StateDirectoryLockedError extends StreamlaneError {
  readonly directory: string
  readonly holder: LockHolder

  constructor(directory: string, holder: LockHolder, detail: string) {
    super(
      'STREAMLANE_STATE_DIR_LOCKED',
      `state directory ${directory} is in use by process ${holder.pid} on host ${holder.hostname} ` +
        `(since ${holder.startedAt}); ${detail}. Give each instance its own stateDir`
    )
    this.directory = directory
    this.holder = holder
  }
}

/** A task directory is already leased inside this process (a task opened twice, or opened before its close ended). */
export class TaskDirectoryLockedError extends StreamlaneError {
  readonly taskId: string
  readonly directory: string

  constructor(taskId: string, directory: string) {
    super(
      'STREAMLANE_STATE_TASK_LOCKED',
      `task ${taskId}: its state directory ${directory} is already open in this process; close the task first`
    )
    this.taskId = taskId
    this.directory = directory
  }
}

/** The state layer was driven out of order (restoring over uncommitted writes, committing after close, ...). */
export class StateLifecycleError extends StreamlaneError {
  constructor(message: string) {
    super('STREAMLANE_STATE_LIFECYCLE', message)
  }
}

/** A local write (LMDB commit, checkpoint file) failed; the task must be closed dirty and reopened. */
export class StateIOError extends StreamlaneError {
  readonly path: string

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('STREAMLANE_STATE_IO_FAILED', `${message} (${path})`, options)
    this.path = path
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
