import type { Database } from 'lmdb'
import type { BytesBackend, BytesEntry, BytesWrite, ChangelogCheckpoint } from './bytes-store.ts'
import { messageOf, StoreCorruptedError } from './errors.ts'
import type { LmdbEnvironment } from './lmdb-environment.ts'
import { storedKey } from './lmdb-keys.ts'

/**
 * LMDB's largest key is 1978 bytes with its default page size; every key carries one prefix byte (lmdb-keys.ts), so a
 * store key may have 1977. Stores check this when a key is PUT, because a commit must not fail after Kafka committed.
 */
export const LMDB_MAX_KEY_BYTES = 1977

/** Errors lmdb-js raises when the file under it is damaged. */
const CORRUPTION = /MDB_CORRUPTED|MDB_PAGE_NOTFOUND|MDB_INVALID|page \d+ not found|MDB_BAD_TXN/i

/**
 * A persistent store in one named database of its task's LMDB environment. LMDB orders keys by unsigned bytes, the
 * same order as every other layer here. Keys are stored behind a prefix byte (`storedKey`).
 */
export class LmdbBackend implements BytesBackend {
  readonly persistent = true
  readonly maxKeyBytes = LMDB_MAX_KEY_BYTES
  readonly name: string
  readonly #env: LmdbEnvironment
  readonly #db: Database<Buffer, Buffer>

  constructor(name: string, env: LmdbEnvironment, db: Database<Buffer, Buffer>) {
    this.name = name
    this.#env = env
    this.#db = db
  }

  get location(): string {
    return `${this.#env.path} (database store:${this.name})`
  }

  get(key: Buffer): Buffer | undefined {
    try {
      return this.#db.get(storedKey(key))
    } catch (error) {
      throw this.#readError(error)
    }
  }

  *range(from: Buffer | undefined, to: Buffer | undefined, reverse: boolean): Generator<BytesEntry, undefined> {
    if (from !== undefined && to !== undefined && Buffer.compare(from, to) > 0) return
    // lmdb-js ranges include `start` and exclude `end`. Forward, the first key after `to` is `to` + 0x00, an exact
    // exclusive end. Backward there is no such key before `from`, so the loop stops on the first key below it.
    const options = reverse
      ? { reverse: true, ...(to === undefined ? {} : { start: storedKey(to) }) }
      : {
          ...(from === undefined ? {} : { start: storedKey(from) }),
          ...(to === undefined ? {} : { end: successor(storedKey(to)) })
        }
    let iterator: Iterator<{ key: Buffer; value: Buffer }>
    try {
      iterator = this.#db.getRange(options)[Symbol.iterator]()
    } catch (error) {
      throw this.#readError(error)
    }
    try {
      for (;;) {
        let step: IteratorResult<{ key: Buffer; value: Buffer }>
        try {
          step = iterator.next()
        } catch (error) {
          throw this.#readError(error)
        }
        if (step.done) return
        const key = step.value.key.subarray(1)
        if (reverse && from !== undefined && Buffer.compare(key, from) < 0) return
        yield { key, value: step.value.value }
      }
    } finally {
      iterator.return?.()
    }
  }

  approximateNumEntries(): number {
    return (this.#db.getStats() as { entryCount: number }).entryCount
  }

  restoreWrite(writes: readonly BytesWrite[], checkpoint: ChangelogCheckpoint): void {
    this.#env.restoreWrite(this.name, this.#db, writes, checkpoint)
  }

  write(writes: Iterable<BytesWrite>, checkpoint: ChangelogCheckpoint | null): void {
    this.#env.transaction(() => {
      for (const { key, value } of writes) {
        if (value === null) this.#db.removeSync(storedKey(key))
        else this.#db.putSync(storedKey(key), value)
      }
      if (checkpoint !== null) this.#env.writeCheckpoint(this.name, checkpoint)
    })
  }

  checkpoint(): ChangelogCheckpoint | null {
    return this.#env.readCheckpoint(this.name)
  }

  layout(): string | null {
    return this.#env.readLayout(this.name)
  }

  setLayout(layout: string): void {
    this.#env.transaction(() => this.#env.writeLayout(this.name, layout))
  }

  clear(): void {
    this.#env.transaction(() => {
      this.#db.clearSync()
      this.#env.writeCheckpoint(this.name, null)
    })
  }

  /** The environment owns the file; the task state manager closes it once every store is closed. */
  close(): void {}

  #readError(error: unknown): unknown {
    if (error instanceof Error && CORRUPTION.test(error.message)) {
      return new StoreCorruptedError(this.location, `LMDB read failed: ${messageOf(error)}`, { cause: error })
    }
    return error
  }
}

/** The smallest key greater than `key`. */
function successor(key: Buffer): Buffer {
  const next = Buffer.alloc(key.length + 1)
  key.copy(next)
  return next
}
