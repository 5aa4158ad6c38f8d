/**
 * Writes restored changelog batches into LMDB on a worker thread, so the app's loop reads and decodes the next fetch
 * while the previous batch is written: on the loop alone, LMDB's put and commit were about half of restoration's
 * CPU. One per app, shared by the tasks that restore; `LmdbBackend.restoreWrite` hands it batches, and a task
 * awaits `settle` (every batch of its file committed, the worker's handle on the file closed) before it reads its
 * stores or closes them.
 */
import { Worker } from 'node:worker_threads'
import { StateIOError } from './errors.ts'
import type { RestoreWriteMessage, RestoreWriteReply } from './restore-write-batch.ts'

const workerScript = new URL(
  `./restore-write-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url
)

/** Batches of one LMDB file not yet committed, and the first failure among them. */
interface FileWrites {
  pending: number
  failure: StateIOError | null
  idle: (() => void)[]
}

type WriteMessage = Omit<Extract<RestoreWriteMessage, { type: 'write' }>, 'id' | 'type'>

export class RestoreWriteThread {
  #worker: Worker | null = null
  #nextId = 1
  /** Each message in flight: its file and its size in bytes. */
  readonly #inFlight = new Map<number, { path: string; bytes: number; released?: () => void }>()
  readonly #files = new Map<string, FileWrites>()
  #queuedBytes = 0
  #roomWaiters: (() => void)[] = []
  #closed = false

  /** Bytes of batches handed over and not yet committed. */
  get queuedBytes(): number {
    return this.#queuedBytes
  }

  /** Hands a packed batch (with its store's checkpoint) to the worker; it is committed after those before it. */
  write(message: WriteMessage): void {
    if (this.#closed) throw new StateIOError(message.path, 'the restore write thread is closed')
    const id = this.#nextId++
    const bytes = message.batches.reduce((sum, batch) => sum + batch.byteLength, 0)
    this.#inFlight.set(id, { path: message.path, bytes })
    this.#queuedBytes += bytes
    this.#file(message.path).pending++
    this.#thread().postMessage({ type: 'write', id, ...message } satisfies RestoreWriteMessage, [...message.batches])
  }

  /** Resolves once at most `maxBytes` are queued: the restorer reads no further ahead of the writes than that. */
  async room(maxBytes: number): Promise<void> {
    while (this.#queuedBytes > maxBytes) await new Promise<void>((resolve) => this.#roomWaiters.push(resolve))
  }

  /**
   * Waits until every batch written for `path` is committed, then closes the worker's handle on the file (the main
   * thread's stays open). Rejects with the first write that failed; the file then holds the batches before it.
   */
  async settle(path: string): Promise<void> {
    const file = this.#files.get(path)
    if (file === undefined) return
    while (file.pending > 0) await new Promise<void>((resolve) => file.idle.push(resolve))
    this.#files.delete(path)
    const id = this.#nextId++
    const released = new Promise<void>((resolve) => this.#inFlight.set(id, { path, bytes: 0, released: resolve }))
    this.#thread().postMessage({ type: 'release', id, path } satisfies RestoreWriteMessage)
    await released
    if (file.failure !== null) throw file.failure
  }

  /** Stops the worker; call once no task restores any more (after `settle` of each). */
  async close(): Promise<void> {
    this.#closed = true
    const worker = this.#worker
    this.#worker = null
    if (worker !== null) await worker.terminate()
  }

  #file(path: string): FileWrites {
    let file = this.#files.get(path)
    if (file === undefined) {
      file = { pending: 0, failure: null, idle: [] }
      this.#files.set(path, file)
    }
    return file
  }

  #thread(): Worker {
    if (this.#worker !== null) return this.#worker
    const worker = new Worker(workerScript)
    // Idle between restorations: it must not keep the process alive.
    worker.unref()
    worker.on('message', (reply: RestoreWriteReply) => this.#onReply(reply))
    worker.on('error', (error) => this.#failAll(error))
    this.#worker = worker
    return worker
  }

  #onReply(reply: RestoreWriteReply): void {
    const entry = this.#inFlight.get(reply.id)
    if (entry === undefined) return
    this.#inFlight.delete(reply.id)
    if (entry.released) {
      entry.released()
      return
    }
    this.#queuedBytes -= entry.bytes
    const file = this.#files.get(entry.path)
    if (file !== undefined) {
      if (reply.type === 'failed') {
        file.failure ??= new StateIOError(entry.path, `restoring into LMDB failed: ${reply.message}`)
      }
      file.pending--
      if (file.pending === 0) for (const resolve of file.idle.splice(0)) resolve()
    }
    for (const resolve of this.#roomWaiters.splice(0)) resolve()
  }

  /** The worker died: every batch in flight failed. */
  #failAll(error: Error): void {
    this.#worker = null
    for (const [id, entry] of this.#inFlight) {
      this.#inFlight.delete(id)
      this.#onReplyFailed(entry, error)
    }
    this.#queuedBytes = 0
    for (const resolve of this.#roomWaiters.splice(0)) resolve()
  }

  #onReplyFailed(entry: { path: string; released?: () => void }, error: Error): void {
    if (entry.released) {
      entry.released()
      return
    }
    const file = this.#files.get(entry.path)
    if (file === undefined) return
    file.failure ??= new StateIOError(entry.path, `the restore write thread failed: ${error.message}`, { cause: error })
    file.pending--
    if (file.pending === 0) for (const resolve of file.idle.splice(0)) resolve()
  }
}
