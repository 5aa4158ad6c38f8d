import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { ChangelogCheckpoint } from './bytes-store.ts'
import { StoreCorruptedError } from './errors.ts'

/**
 * The checkpoint file of a task directory: for each changelog partition of the task's persistent stores, the offset
 * its local data is known to contain (the next offset to restore from).
 *
 * For LMDB stores the authoritative checkpoint lives inside the LMDB file, committed with the data; this file is a
 * copy that can be read without opening LMDB, which is how an instance reports, for every task directory it has,
 * how far behind the changelog end it is (the assignor places tasks where that lag is smallest). It is written
 * after LMDB commits, so it is never ahead of the data; a stale one only overstates the lag.
 *
 * Writes are atomic: a temporary file is written and fsynced, renamed over the old one, and the directory fsynced,
 * so a crash leaves the old file or the new one, never a torn one.
 */
export const CHECKPOINT_FILE = '.checkpoint'
const VERSION = 1

interface CheckpointJson {
  readonly version: number
  readonly offsets: readonly { readonly topic: string; readonly partition: number; readonly offset: string }[]
}

export function checkpointPath(taskDir: string): string {
  return join(taskDir, CHECKPOINT_FILE)
}

/** Reads the file; empty when it does not exist. Throws `StoreCorruptedError` when it cannot be parsed. */
export function readCheckpointFile(path: string): ChangelogCheckpoint[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new StoreCorruptedError(path, `the checkpoint file cannot be read`, { cause: error })
  }
  try {
    const json = JSON.parse(text) as CheckpointJson
    if (json.version !== VERSION || !Array.isArray(json.offsets))
      throw new Error(`unknown layout (version ${json.version})`)
    return json.offsets.map(({ topic, partition, offset }) => {
      if (typeof topic !== 'string' || !Number.isInteger(partition) || !/^\d+$/.test(offset)) {
        throw new Error(`invalid entry ${JSON.stringify({ topic, partition, offset })}`)
      }
      return { topic, partition, offset: BigInt(offset) }
    })
  } catch (error) {
    throw new StoreCorruptedError(path, `the checkpoint file is not valid: ${(error as Error).message}`, {
      cause: error
    })
  }
}

export function writeCheckpointFile(path: string, checkpoints: Iterable<ChangelogCheckpoint>): void {
  const json: CheckpointJson = {
    version: VERSION,
    offsets: [...checkpoints].map((c) => ({ topic: c.topic, partition: c.partition, offset: c.offset.toString() }))
  }
  writeFileAtomically(path, `${JSON.stringify(json)}\n`)
}

/** temp + fsync + rename + fsync(dir): the file has its old content or its new one after any crash. */
export function writeFileAtomically(path: string, content: string): void {
  const temporary = `${path}.tmp-${process.pid}`
  const fd = openSync(temporary, 'w')
  try {
    writeSync(fd, content)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    renameSync(temporary, path)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
  fsyncDirectory(dirname(path))
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic, only its durability is weaker.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
