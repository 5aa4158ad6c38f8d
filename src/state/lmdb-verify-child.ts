/**
 * Child process of `verifyLmdbDeep`: opens an LMDB file read-only and reads every entry of every database. Exit 0
 * when each database yields as many entries as LMDB recorded; exit 3 with the reason on stderr otherwise. A garbled
 * page may also crash this process (SIGSEGV, SIGBUS), which the parent reads as "corrupted", unharmed.
 */
import { open } from 'lmdb'

const path = process.argv[2]
if (path === undefined) {
  process.stderr.write('usage: lmdb-verify-child <path>\n')
  process.exit(2)
}

function fail(reason: string): never {
  process.stderr.write(`${reason}\n`)
  process.exit(3)
}

// lmdb-js prints missing pages instead of throwing; any such output means the tree is damaged.
const write = process.stderr.write.bind(process.stderr)
let complaints = ''
process.stderr.write = ((chunk: string | Uint8Array) => {
  complaints += String(chunk)
  return write(chunk)
}) as typeof process.stderr.write

try {
  const env = open({ path, readOnly: true, maxDbs: 1024, encoding: 'binary', keyEncoding: 'binary', noSubdir: true })
  const names: string[] = []
  for (const key of env.getKeys()) names.push(Buffer.isBuffer(key) ? key.toString('utf8') : String(key))
  for (const name of names) {
    const db = env.openDB(name, { encoding: 'binary', keyEncoding: 'binary' })
    const expected = (db.getStats() as { entryCount: number }).entryCount
    let read = 0
    for (const entry of db.getRange({ snapshot: true })) {
      if (!Buffer.isBuffer(entry.value)) fail(`database ${name}: an entry has no readable value`)
      read++
    }
    if (read !== expected) fail(`database ${name}: read ${read} entries, LMDB recorded ${expected}`)
  }
  if (/not found|MDB_/i.test(complaints)) fail(complaints.trim())
  env.close()
  process.exit(0)
} catch (error) {
  fail(error instanceof Error ? error.message : String(error))
}
