/**
 * Worker thread of `RestoreWriteThread`: writes restored batches into LMDB while the app's loop reads the next
 * ones. lmdb-js shares one environment per file between the threads of a process, so this thread opens the task's
 * file (already open on the main thread) and commits each batch, with its store's checkpoint, in one transaction,
 * in the order the batches came: data and checkpoint never part, as when the main thread writes them.
 */

import { parentPort } from 'node:worker_threads'
import { type Database, open, type RootDatabase } from 'lmdb'
import { type RestoreWriteMessage, type RestoreWriteReply, unpackWrites } from './restore-write-batch.ts'

interface OpenEnvironment {
  readonly root: RootDatabase<Buffer, Buffer>
  readonly dbs: Map<string, Database<Buffer, Buffer>>
}

const environments = new Map<string, OpenEnvironment>()
const port = parentPort!

function environment(message: Extract<RestoreWriteMessage, { type: 'write' }>): OpenEnvironment {
  let env = environments.get(message.path)
  if (env === undefined) {
    const root = open<Buffer, Buffer>({
      path: message.path,
      noSubdir: true,
      maxDbs: message.maxDbs,
      encoding: 'binary',
      keyEncoding: 'binary',
      ...(message.noSync ? { noSync: true, overlappingSync: false } : {})
    })
    env = { root, dbs: new Map() }
    environments.set(message.path, env)
  }
  return env
}

function database(env: OpenEnvironment, name: string): Database<Buffer, Buffer> {
  let db = env.dbs.get(name)
  if (db === undefined) {
    db = env.root.openDB<Buffer, Buffer>(name, { encoding: 'binary', keyEncoding: 'binary' })
    env.dbs.set(name, db)
  }
  return db
}

type WriteMessage = Extract<RestoreWriteMessage, { type: 'write' }>

/** Commits messages of one file in one transaction (each commit syncs the file), each store's checkpoint with it. */
function writeAll(batches: readonly WriteMessage[]): void {
  const env = environment(batches[0]!)
  env.root.transactionSync(() => {
    for (const message of batches) {
      const db = database(env, message.db)
      for (const batch of message.batches) {
        unpackWrites(Buffer.from(batch), (key, value) => {
          if (value === null) db.removeSync(key)
          else db.putSync(key, value)
        })
      }
      database(env, message.metaDb).putSync(Buffer.from(message.checkpointKey), Buffer.from(message.checkpointValue))
    }
  })
}

async function release(path: string): Promise<void> {
  const env = environments.get(path)
  environments.delete(path)
  if (env !== undefined) await env.root.close()
}

/** Batches piled up are committed together up to about this size: far larger transactions wrote slower per record. */
const MAX_TRANSACTION_BYTES = 2 * 1024 * 1024
const queue: RestoreWriteMessage[] = []
let draining = false

/**
 * Handles every message queued: the writes before a release grouped by file (each file's in order, one transaction
 * per file and up to MAX_TRANSACTION_BYTES), then the release; replies to each.
 */
async function drain(): Promise<void> {
  while (queue.length > 0) {
    const byFile = new Map<string, WriteMessage[]>()
    while (queue[0]?.type === 'write') {
      const message = queue.shift() as WriteMessage
      const batches = byFile.get(message.path) ?? []
      batches.push(message)
      byFile.set(message.path, batches)
    }
    for (const batches of byFile.values()) {
      for (const chunk of transactionChunks(batches)) {
        try {
          writeAll(chunk)
          for (const { id } of chunk) reply({ type: 'written', id })
        } catch (error) {
          for (const { id } of chunk) reply(failed(id, error))
        }
      }
    }
    const next = queue.shift()
    if (next?.type === 'release') {
      await release(next.path).then(
        () => reply({ type: 'released', id: next.id }),
        (error: unknown) => reply(failed(next.id, error))
      )
    }
  }
}

function* transactionChunks(batches: readonly WriteMessage[]): Generator<WriteMessage[]> {
  let chunk: WriteMessage[] = []
  let bytes = 0
  for (const batch of batches) {
    const size = batch.batches.reduce((sum, b) => sum + b.byteLength, 0)
    if (chunk.length > 0 && bytes + size > MAX_TRANSACTION_BYTES) {
      yield chunk
      chunk = []
      bytes = 0
    }
    chunk.push(batch)
    bytes += size
  }
  if (chunk.length > 0) yield chunk
}

function reply(message: RestoreWriteReply): void {
  port.postMessage(message)
}

function failed(id: number, error: unknown): RestoreWriteReply {
  return { type: 'failed', id, message: error instanceof Error ? error.message : String(error) }
}

/** Drains after the messages that arrived together are queued, so they are committed together. */
function scheduleDrain(): void {
  if (draining) return
  draining = true
  setImmediate(() => {
    drain().finally(() => {
      draining = false
      if (queue.length > 0) scheduleDrain()
    })
  })
}

port.on('message', (message: RestoreWriteMessage) => {
  queue.push(message)
  scheduleDrain()
})
