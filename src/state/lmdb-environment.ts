import { join } from 'node:path'
import { type Database, open, type RootDatabase } from 'lmdb'
import type { ChangelogCheckpoint } from './bytes-store.ts'
import { messageOf, StateIOError, StoreCorruptedError } from './errors.ts'
import { LmdbBackend } from './lmdb-backend.ts'
import { checkLmdbFile } from './lmdb-file-check.ts'

/** The LMDB file of a task directory (`<stateDir>/<appId>/<taskId>/stores.lmdb`, plus LMDB's `stores.lmdb-lock`). */
export const LMDB_FILE = 'stores.lmdb'
const META_DB = '__streamlane_meta'
const STORE_DB_PREFIX = 'store:'

export interface LmdbOptions {
  /** Named databases per task (one per store plus one for metadata). Default 128. */
  readonly maxDbs?: number
  /** Initial map size in bytes; lmdb-js grows it as needed. Default: lmdb-js's. */
  readonly mapSize?: number
  /**
   * Skip fsync on commit. A process crash loses nothing (the OS has the pages); a machine crash may lose or damage
   * the newest commits, and a damaged file is detected and wiped on open. Default false.
   */
  readonly noSync?: boolean
}

/**
 * One LMDB environment per task directory, with a named database per persistent store and a metadata database
 * holding each store's changelog checkpoint. Keeping the checkpoint in the same file is what makes it exact: a
 * store's data and the offset it corresponds to change in the same write transaction, so after any crash the file
 * holds some committed state together with the offset to restore from.
 */
export class LmdbEnvironment {
  readonly path: string
  readonly #root: RootDatabase<Buffer, Buffer>
  readonly #meta: Database<Buffer, Buffer>
  readonly #backends = new Map<string, LmdbBackend>()
  #transactionDepth = 0
  #closed = false

  private constructor(path: string, root: RootDatabase<Buffer, Buffer>, meta: Database<Buffer, Buffer>) {
    this.path = path
    this.#root = root
    this.#meta = meta
  }

  /**
   * Opens (or creates) the environment of `taskDir`. Throws `StoreCorruptedError` when the file fails the pre-open
   * check or LMDB refuses it; the caller wipes the directory and opens again (once: a second failure is not a
   * corrupted file and is thrown).
   */
  static open(taskDir: string, options: LmdbOptions = {}): LmdbEnvironment {
    const path = join(taskDir, LMDB_FILE)
    const check = checkLmdbFile(path)
    if (!check.ok) throw new StoreCorruptedError(path, check.reason)
    let root: RootDatabase<Buffer, Buffer>
    try {
      root = open<Buffer, Buffer>({
        path,
        noSubdir: true,
        maxDbs: options.maxDbs ?? 128,
        encoding: 'binary',
        keyEncoding: 'binary',
        ...(options.mapSize === undefined ? {} : { mapSize: options.mapSize }),
        ...(options.noSync ? { noSync: true, overlappingSync: false } : {})
      })
    } catch (error) {
      throw new StoreCorruptedError(path, `LMDB cannot open it: ${messageOf(error)}`, { cause: error })
    }
    try {
      const meta = root.openDB<Buffer, Buffer>(META_DB, { encoding: 'binary', keyEncoding: 'binary' })
      return new LmdbEnvironment(path, root, meta)
    } catch (error) {
      void root.close()
      throw new StoreCorruptedError(path, `LMDB cannot open its metadata: ${messageOf(error)}`, { cause: error })
    }
  }

  /** The backend of store `name`, created on first use. */
  backend(name: string): LmdbBackend {
    let backend = this.#backends.get(name)
    if (backend === undefined) {
      const db = this.#root.openDB<Buffer, Buffer>(`${STORE_DB_PREFIX}${name}`, {
        encoding: 'binary',
        keyEncoding: 'binary'
      })
      backend = new LmdbBackend(name, this, db)
      this.#backends.set(name, backend)
    }
    return backend
  }

  /**
   * Runs `action` in one write transaction. Nested calls join the outermost one, so a task commit that applies every
   * store's batch and checkpoint is a single LMDB commit (one fsync) for the whole task.
   */
  transaction(action: () => void): void {
    if (this.#closed) throw new StateIOError(this.path, 'the LMDB environment is closed')
    if (this.#transactionDepth > 0) {
      action()
      return
    }
    this.#transactionDepth++
    try {
      this.#root.transactionSync(action)
    } catch (error) {
      if (error instanceof StoreCorruptedError || error instanceof StateIOError) throw error
      throw new StateIOError(this.path, `LMDB write transaction failed: ${messageOf(error)}`, { cause: error })
    } finally {
      this.#transactionDepth--
    }
  }

  readCheckpoint(store: string): ChangelogCheckpoint | null {
    const raw = this.#meta.get(checkpointKey(store))
    if (raw === undefined) return null
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as { topic: string; partition: number; offset: string }
      return { topic: parsed.topic, partition: parsed.partition, offset: BigInt(parsed.offset) }
    } catch (error) {
      throw new StoreCorruptedError(this.path, `the checkpoint of store ${store} is unreadable`, { cause: error })
    }
  }

  /** Must run inside `transaction`. `null` removes the checkpoint (the store was cleared). */
  writeCheckpoint(store: string, checkpoint: ChangelogCheckpoint | null): void {
    if (checkpoint === null) {
      this.#meta.removeSync(checkpointKey(store))
      return
    }
    const json = JSON.stringify({
      topic: checkpoint.topic,
      partition: checkpoint.partition,
      offset: checkpoint.offset.toString()
    })
    this.#meta.putSync(checkpointKey(store), Buffer.from(json, 'utf8'))
  }

  readLayout(store: string): string | null {
    return this.#meta.get(Buffer.from(`layout/${store}`, 'utf8'))?.toString('utf8') ?? null
  }

  /** Must run inside `transaction`. */
  writeLayout(store: string, layout: string): void {
    this.#meta.putSync(Buffer.from(`layout/${store}`, 'utf8'), Buffer.from(layout, 'utf8'))
  }

  /** The checkpoints of `stores` (those that have one). */
  checkpointsOf(stores: readonly string[]): ChangelogCheckpoint[] {
    const result: ChangelogCheckpoint[] = []
    for (const store of stores) {
      const checkpoint = this.readCheckpoint(store)
      if (checkpoint !== null) result.push(checkpoint)
    }
    return result
  }

  /** Closes the environment. lmdb-js finishes closing asynchronously; the returned promise settles then. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#closed = true
    this.#backends.clear()
    return this.#root.close()
  }

  get closed(): boolean {
    return this.#closed
  }
}

function checkpointKey(store: string): Buffer {
  return Buffer.from(`checkpoint/${store}`, 'utf8')
}
