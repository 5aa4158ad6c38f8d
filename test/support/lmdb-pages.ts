import { readFileSync } from 'node:fs'

/** What a test needs to damage an LMDB file precisely: its page size, page count and the newest snapshot's roots. */
export interface LmdbLayout {
  readonly pageSize: number
  readonly pages: number
  /** The newest snapshot's root page per database: `free`, `main` and each named one (e.g. `store:counts`). */
  readonly roots: ReadonlyMap<string, number>
}

const INVALID_PAGE = 0xffffffffffffffffn

/**
 * Reads the layout the way LMDB does (lmdb-js's format: a 24-byte page header, the meta after it, the main
 * database's root leaf holding each named database's MDB_db record, whose last 8 bytes are its root page).
 * Assumes a healthy file whose main database root is a leaf (a handful of named databases).
 */
export function lmdbLayout(path: string): LmdbLayout {
  const file = readFileSync(path)
  const meta = (page: number, pageSize: number) => {
    const dbs = page * pageSize + 48
    return {
      pageSize: file.readUInt32LE(dbs),
      freeRoot: file.readBigUInt64LE(dbs + 40),
      mainRoot: file.readBigUInt64LE(dbs + 88),
      txn: file.readBigUInt64LE(dbs + 104)
    }
  }
  const first = meta(0, 0)
  const second = meta(1, first.pageSize)
  const { pageSize, freeRoot, mainRoot } = first.txn >= second.txn ? first : second
  const roots = new Map<string, number>()
  if (freeRoot !== INVALID_PAGE) roots.set('free', Number(freeRoot))
  if (mainRoot !== INVALID_PAGE) {
    roots.set('main', Number(mainRoot))
    const page = Number(mainRoot) * pageSize
    if ((file.readUInt16LE(page + 18) & 0x02) === 0) throw new Error(`the main root of ${path} is not a leaf`)
    for (let i = 0; i < file.readUInt16LE(page + 20) / 2; i++) {
      const node = page + 24 + file.readUInt16LE(page + 24 + 2 * i)
      const keySize = file.readUInt16LE(node + 6)
      if ((file.readUInt16LE(node + 4) & 0x02) === 0) continue // not a named database (F_SUBDATA)
      const root = file.readBigUInt64LE(node + 8 + keySize + 40)
      const name = file
        .subarray(node + 8, node + 8 + keySize)
        .toString('utf8')
        .replace(/\0+$/, '')
      if (root !== INVALID_PAGE) roots.set(name, Number(root))
    }
  }
  return { pageSize, pages: Math.floor(file.length / pageSize), roots }
}
