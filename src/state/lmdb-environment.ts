import { join } from 'node:path'
import { type Database, open, type RootDatabase } from 'lmdb'
import type { BytesWrite, ChangelogCheckpoint } from './bytes-store.ts'
import { messageOf, StateIOError, StoreCorruptedError } from './errors.ts'
import { LmdbBackend } from './lmdb-backend.ts'
import { checkLmdbFile } from './lmdb-file-check.ts'
import { KEY_PREFIX, storedKey } from './lmdb-keys.ts'
import { packWrites } from './restore-write-batch.ts'
import type { RestoreWriteThread } from './restore-write-thread.ts'

/** The LMDB file of a task directory (`<stateDir>/<appId>/<taskId>/stores.lmdb`, plus LMDB's `stores.lmdb-lock`). */
export const LMDB_FILE = 'stores.lmdb'
const META_DB = '__streamlane_meta'
const STORE_DB_PREFIX = 'store:'
const DEFAULT_MAX_DBS = 128
/**
 * Restored batches (4,000 records each) are handed to the write thread in groups of about this size, each group one
 * LMDB transaction: each commit syncs the file, and a sync per batch made the disk the limit.
 */
const RESTORE_TRANSACTION_BYTES = 2 * 1024 * 1024

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
  readonly #options: LmdbOptions
  #transactionDepth = 0
  #closed = false
  /** Where restored batches are written (see `restoreWrite`); null: on this thread. */
  #restoreWrites: RestoreWriteThread | null = null
  /** Restored batches not handed over yet, by database: they go over together, one LMDB transaction (one sync). */
  readonly #heldRestores = new Map<
    string,
    { name: string; batches: ArrayBuffer[]; bytes: number; checkpoint: ChangelogCheckpoint }
  >()

  private constructor(
    path: string,
    root: RootDatabase<Buffer, Buffer>,
    meta: Database<Buffer, Buffer>,
    options: LmdbOptions
  ) {
    this.path = path
    this.#root = root
    this.#meta = meta
    this.#options = options
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
        maxDbs: options.maxDbs ?? DEFAULT_MAX_DBS,
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
      return new LmdbEnvironment(path, root, meta, options)
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

  /** Restored batches go to `thread` from now on, written there while this thread reads the next ones. */
  writeRestoresOn(thread: RestoreWriteThread): void {
    this.#restoreWrites = thread
  }

  /**
   * Writes a restored batch of store `name` with its checkpoint: on the restore write thread when there is one (in
   * order, batches grouped into transactions of about 2 MiB, each with the checkpoint of its last batch;
   * `settleRestoreWrites` hands over the rest and waits for them), else here and now.
   */
  restoreWrite(
    name: string,
    db: Database<Buffer, Buffer>,
    writes: readonly BytesWrite[],
    checkpoint: ChangelogCheckpoint
  ): void {
    if (this.#closed) throw new StateIOError(this.path, 'the LMDB environment is closed')
    const thread = this.#restoreWrites
    if (thread === null) {
      this.transaction(() => {
        for (const { key, value } of writes) {
          if (value === null) db.removeSync(storedKey(key))
          else db.putSync(storedKey(key), value)
        }
        this.writeCheckpoint(name, checkpoint)
      })
      return
    }
    const dbName = `${STORE_DB_PREFIX}${name}`
    const held = this.#heldRestores.get(dbName) ?? { name, batches: [], bytes: 0, checkpoint }
    const packed = packWrites(writes, KEY_PREFIX)
    held.batches.push(packed)
    held.bytes += packed.byteLength
    held.checkpoint = checkpoint
    this.#heldRestores.set(dbName, held)
    if (held.bytes >= RESTORE_TRANSACTION_BYTES) this.#handOverRestores(dbName)
  }

  /** Hands the batches held for database `db` (or every database) to the restore write thread, as one transaction. */
  #handOverRestores(db?: string): void {
    const thread = this.#restoreWrites
    if (thread === null) return
    for (const [name, held] of this.#heldRestores) {
      if (db !== undefined && name !== db) continue
      this.#heldRestores.delete(name)
      thread.write({
        path: this.path,
        maxDbs: this.#options.maxDbs ?? DEFAULT_MAX_DBS,
        noSync: this.#options.noSync ?? false,
        db: name,
        metaDb: META_DB,
        batches: held.batches,
        checkpointKey: checkpointKey(held.name),
        checkpointValue: checkpointValue(held.checkpoint)
      })
    }
  }

  /**
   * Resolves once every restored batch handed to the restore write thread is committed (rejects with the first
   * that failed); reads on this thread see them from then on.
   */
  async settleRestoreWrites(): Promise<void> {
    const thread = this.#restoreWrites
    if (thread === null) return
    this.#handOverRestores()
    try {
      await thread.settle(this.path)
    } finally {
      // lmdb-js keeps a read snapshot for up to one timer turn: the next read must see the worker's commits.
      if (!this.#closed) this.#root.resetReadTxn()
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
    this.#meta.putSync(checkpointKey(store), checkpointValue(checkpoint))
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

  /**
   * Closes the environment, once the restore write thread (if any) has committed what it was given and let go of
   * the file. lmdb-js finishes closing asynchronously; the returned promise settles then.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#backends.clear()
    // A failed restore write leaves the file at the batch before it; the task restores the rest next time.
    this.#handOverRestores()
    await this.#restoreWrites?.settle(this.path).catch(() => {})
    await this.#root.close()
  }

  get closed(): boolean {
    return this.#closed
  }
}

function checkpointKey(store: string): Buffer {
  return Buffer.from(`checkpoint/${store}`, 'utf8')
}

function checkpointValue(checkpoint: ChangelogCheckpoint): Buffer {
  const json = JSON.stringify({
    topic: checkpoint.topic,
    partition: checkpoint.partition,
    offset: checkpoint.offset.toString()
  })
  return Buffer.from(json, 'utf8')
}
