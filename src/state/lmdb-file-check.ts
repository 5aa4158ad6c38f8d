import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { messageOf } from './errors.ts'

/**
 * Checks an LMDB data file BEFORE the process maps it. LMDB trusts its file: mapping a truncated file and touching a
 * page past its end kills the process with SIGBUS, and garbled meta pages can segfault it. Either would turn one bad
 * file into a crash loop, so a file that fails these checks is wiped instead of opened.
 *
 * The cheap check reads the two meta pages (LMDB keeps two and uses the one with the newer transaction id) and
 * verifies the magic, the page size, that the root pages exist and that the file is as long as the meta says. Then
 * it reads the root pages themselves (of the free and main databases and of every named database the main root
 * lists) and checks their headers: a page that does not carry its own page number, or is neither a branch nor a
 * leaf, or whose bounds leave the page, would be followed blindly by LMDB on open and can segfault the process. It
 * catches truncation (a partial copy, a full disk), garbled headers and a file garbled wholesale, whether or not the
 * last run shut down cleanly. Damage deeper in the B-tree is invisible to it; `verifyLmdbDeep` walks every database
 * in a child process, so even a crash stays in the child.
 */

const MAGIC = 0xbeefc0de
/** Bytes of MDB_db: md_pad u32, md_flags u16, md_depth u16, then four 8-byte counters and the root page number. */
const DB_SIZE = 48
const INVALID_PAGE = 0xffffffffffffffffn
/** Page kinds (mdb.c `P_*`) and the leaf node flag of a named database's record (`F_SUBDATA`). */
const P_BRANCH = 0x01
const P_LEAF = 0x02
const P_OVERFLOW = 0x04
const P_META = 0x08
const F_SUBDATA = 0x02
/** A node's header: mn_lo u16, mn_hi u16, mn_flags u16, mn_ksize u16; the key and the data follow. */
const NODE_SIZE = 8

export type FileCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string }

interface Meta {
  /** Where the meta starts in its page: the size of a page header (16 bytes in LMDB 0.9, 24 in lmdb-js's). */
  readonly headerSize: number
  readonly pageSize: number
  readonly lastPage: bigint
  readonly txnId: bigint
  readonly roots: readonly bigint[]
}

/** Reads the fields the check needs. The meta follows a page header whose size differs across LMDB versions. */
function parseMeta(page: Buffer): Meta | null {
  let at = -1
  for (let offset = 16; offset <= 32 && offset + 4 <= page.length; offset += 8) {
    if (page.readUInt32LE(offset) === MAGIC) at = offset
  }
  if (at < 0 || at + 136 > page.length) return null
  const version = page.readUInt32LE(at + 4)
  if (version < 1 || version > 2) return null
  const dbs = at + 24
  return {
    headerSize: at,
    pageSize: page.readUInt32LE(dbs),
    roots: [page.readBigUInt64LE(dbs + DB_SIZE - 8), page.readBigUInt64LE(dbs + 2 * DB_SIZE - 8)],
    lastPage: page.readBigUInt64LE(dbs + 2 * DB_SIZE),
    txnId: page.readBigUInt64LE(dbs + 2 * DB_SIZE + 8)
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length)
  const read = readSync(fd, buffer, 0, length, position)
  return buffer.subarray(0, read)
}

export function checkLmdbFile(path: string): FileCheck {
  if (!existsSync(path)) return { ok: true }
  let size: number
  let fd: number
  try {
    size = statSync(path).size
    // An empty file is what LMDB creates before its first commit; it initialises it like a new one.
    if (size === 0) return { ok: true }
    fd = openSync(path, 'r')
  } catch (error) {
    return { ok: false, reason: `cannot read the file: ${messageOf(error)}` }
  }
  try {
    const first = parseMeta(readAt(fd, 0, 256))
    const pageSize = first?.pageSize
    if (pageSize === undefined || pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
      return { ok: false, reason: 'the first meta page is not a valid LMDB meta page' }
    }
    if (size < 2 * pageSize) return { ok: false, reason: `the file is ${size} bytes, shorter than its two meta pages` }
    const second = parseMeta(readAt(fd, pageSize, 256))
    const metas = [first, second].filter((m): m is Meta => m !== null && m.pageSize === pageSize)
    const pages = BigInt(Math.floor(size / pageSize))
    for (const meta of metas) {
      if (meta.lastPage >= pages) {
        return {
          ok: false,
          reason: `transaction ${meta.txnId} uses ${meta.lastPage + 1n} pages of ${pageSize} bytes but the file holds ${pages} (truncated)`
        }
      }
      for (const root of meta.roots) {
        if (root !== INVALID_PAGE && root > meta.lastPage) {
          return { ok: false, reason: `transaction ${meta.txnId} has a root page ${root} past its last page` }
        }
      }
    }
    // LMDB opens the snapshot with the newer transaction id (mdb_pick_meta: lmdb-js's fallback to the older one
    // needs a flag its metas never carry), so that is the one whose roots must be sound.
    const newest = metas.reduce((a, b) => (b.txnId > a.txnId ? b : a))
    const problem = rootsProblem(fd, newest, pageSize)
    return problem === null ? { ok: true } : { ok: false, reason: problem }
  } catch (error) {
    return { ok: false, reason: `cannot read the meta pages: ${messageOf(error)}` }
  } finally {
    closeSync(fd)
  }
}

/**
 * Why the root pages of `meta`'s snapshot cannot be trusted, or null. Reads only the roots: those of the free and
 * main databases and, when the main root is a leaf (a handful of named databases), those of the named databases.
 */
function rootsProblem(fd: number, meta: Meta, pageSize: number): string | null {
  const header = meta.headerSize
  // Node offsets and the free-space bounds count from the end of the header in lmdb-js (LMDB's PAGEBASE).
  const base = header === 16 ? 0 : header
  const read = (pgno: bigint, what: string): Buffer | string => {
    const page = readAt(fd, Number(pgno) * pageSize, pageSize)
    const flags = page.length === pageSize ? page.readUInt16LE(header - 6) : 0
    const lower = page.length === pageSize ? page.readUInt16LE(header - 4) : 0
    const upper = page.length === pageSize ? page.readUInt16LE(header - 2) : 0
    const kind = flags & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META)
    const valid =
      page.length === pageSize &&
      page.readBigUInt64LE(0) === pgno &&
      (kind === P_BRANCH || kind === P_LEAF) &&
      lower % 2 === 0 &&
      base + lower >= header &&
      lower <= upper &&
      base + upper <= pageSize
    return valid ? page : `transaction ${meta.txnId}: the root page ${pgno} of ${what} is garbled`
  }
  const [freeRoot, mainRoot] = meta.roots as [bigint, bigint]
  if (freeRoot !== INVALID_PAGE) {
    const free = read(freeRoot, 'the free-page database')
    if (typeof free === 'string') return free
  }
  if (mainRoot === INVALID_PAGE) return null
  const main = read(mainRoot, 'the main database')
  if (typeof main === 'string') return main
  if ((main.readUInt16LE(header - 6) & P_LEAF) === 0) return null
  const lower = main.readUInt16LE(header - 4)
  const upper = main.readUInt16LE(header - 2)
  for (let i = 0; i < (base + lower - header) / 2; i++) {
    const ptr = main.readUInt16LE(header + 2 * i)
    const node = base + ptr
    const garbled = `transaction ${meta.txnId}: node ${i} of the main database's root page ${mainRoot} is garbled`
    if (ptr < upper || node + NODE_SIZE > pageSize) return garbled
    const dataSize = main.readUInt16LE(node) | (main.readUInt16LE(node + 2) << 16)
    const keySize = main.readUInt16LE(node + 6)
    if ((main.readUInt16LE(node + 4) & F_SUBDATA) === 0) continue
    const data = node + NODE_SIZE + keySize
    if (dataSize !== DB_SIZE || data + DB_SIZE > pageSize) return garbled
    const root = main.readBigUInt64LE(data + DB_SIZE - 8)
    if (root === INVALID_PAGE) continue
    const name = main
      .subarray(node + NODE_SIZE, data)
      .toString('utf8')
      .replace(/\0+$/, '') // lmdb-js stores it with its NUL
    if (root > meta.lastPage)
      return `transaction ${meta.txnId}: database ${name} has a root page ${root} past its last page`
    const page = read(root, `database ${name}`)
    if (typeof page === 'string') return page
  }
  return null
}

const childScript = new URL(`./lmdb-verify-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url)

/**
 * Walks every database of the file in a child process and compares the entries it can read with the counts LMDB
 * recorded. `ok: true` when they match or the walk could not conclude in time (a large healthy file must not be
 * wiped for being slow; `timedOut` says so).
 */
export function verifyLmdbDeep(path: string, timeoutMs: number): Promise<FileCheck & { readonly timedOut?: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(childScript), path], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    let timedOut = false
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    // Not being able to start a reader says nothing about the file: open it as it is.
    child.on('error', () => {
      clearTimeout(timer)
      resolve({ ok: true })
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (timedOut) resolve({ ok: true, timedOut: true })
      else if (code === 0) resolve({ ok: true })
      else {
        const detail = stderr.trim().split('\n').slice(-3).join(' | ')
        resolve({ ok: false, reason: signal ? `reading it crashed the reader (${signal})` : detail || `exit ${code}` })
      }
    })
  })
}
