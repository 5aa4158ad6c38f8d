/**
 * The pre-open check of an LMDB file reads its root pages: a file garbled after a CLEAN shutdown (no deep walk runs
 * then) must be wiped before LMDB maps it, since following a garbage root page can segfault the process. Healthy
 * files must never fail it.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, openSync, rmSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { open } from 'lmdb'
import { Serdes } from '../../../src/serde/index.ts'
import {
  checkLmdbFile,
  type KeyValueStore,
  keyValueStoreBuilder,
  LMDB_FILE,
  OPEN_MARKER,
  StateDirectory,
  TaskStateManager
} from '../../../src/state/index.ts'
import { TaskId } from '../../../src/task-id.ts'
import { lmdbLayout } from '../../support/lmdb-pages.ts'
import { RecordingLogger, TaskHarness, tempDir } from './helpers.ts'

const counts = () => keyValueStoreBuilder({ name: 'counts', keySerde: Serdes.string(), valueSerde: Serdes.string() })

function overwrite(path: string, at: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+')
  try {
    writeSync(fd, bytes, 0, bytes.length, at)
  } finally {
    closeSync(fd)
  }
}

describe('the root pages of an LMDB file are checked before it is mapped', () => {
  let stateDir: string
  let lmdbPath: string

  beforeEach(async () => {
    stateDir = tempDir()
    const task = new TaskHarness({ stateDir })
    const store = task.open(counts())
    for (let i = 0; i < 20_000; i++) store.put(`key-${i}`, 'x'.repeat(20))
    task.commit()
    lmdbPath = join(task.lease.path, LMDB_FILE)
    await task.close()
    assert.equal(existsSync(join(task.lease.path, OPEN_MARKER)), false, 'a clean shutdown: no deep walk on open')
  })
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }))

  async function reopen() {
    const logger = new RecordingLogger()
    const directory = StateDirectory.open({ stateDir, applicationId: 'app', logger })
    const lease = await directory.prepareTask('0_3')
    const manager = new TaskStateManager({ applicationId: 'app', taskId: new TaskId(0, 3), lease, logger })
    const store = manager.createStore(counts()) as KeyValueStore<string, string>
    store.init({ applicationId: 'app', taskId: new TaskId(0, 3), changelogTopic: 'app-counts-changelog' })
    const result = { logger, value: store.get('key-7'), offset: manager.changelogPartitions()[0]!.checkpointOffset }
    await manager.close()
    directory.close()
    return result
  }

  test('a file garbled wholesale (all but its meta pages) after a clean shutdown is wiped, not mapped', async () => {
    const { pageSize } = lmdbLayout(lmdbPath)
    overwrite(lmdbPath, 2 * pageSize, randomBytes(statSync(lmdbPath).size - 2 * pageSize))
    const { logger, value, offset } = await reopen()
    assert.equal(value, null)
    assert.equal(offset, null, 'restored from the beginning')
    assert.equal(logger.warnings.length, 1)
    assert.match(logger.warnings[0]!.message, /wiping corrupted task state/)
    assert.match(String(logger.warnings[0]!.fields.reason), /root page \d+ of the free-page database is garbled/)
  })

  test('zeroed pages are found the same way', async () => {
    const { pageSize } = lmdbLayout(lmdbPath)
    overwrite(lmdbPath, 2 * pageSize, Buffer.alloc(statSync(lmdbPath).size - 2 * pageSize))
    const { logger, offset } = await reopen()
    assert.equal(offset, null)
    assert.match(String(logger.warnings[0]!.fields.reason), /is garbled/)
  })

  test("a garbled root page of a store's own database (read on the first get) is found", async () => {
    const { pageSize, roots } = lmdbLayout(lmdbPath)
    const page = roots.get('store:counts')!
    assert.equal(checkLmdbFile(lmdbPath).ok, true)
    overwrite(lmdbPath, page * pageSize, randomBytes(pageSize))
    const check = checkLmdbFile(lmdbPath)
    assert.equal(check.ok, false)
    assert.match(check.ok ? '' : check.reason, new RegExp(`root page ${page} of database store:counts is garbled`))
    const { logger, offset } = await reopen()
    assert.equal(offset, null)
    assert.equal(logger.warnings.length, 1)
  })

  test('an intact file still reopens with its data and no warning', async () => {
    const { logger, value, offset } = await reopen()
    assert.equal(value, 'x'.repeat(20))
    assert.equal(offset, 20_000n)
    assert.deepEqual(logger.warnings, [])
  })
})

test('healthy files pass: many transactions, overflow values, emptied databases, 120 databases', async () => {
  let seed = 7
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    return seed / 2 ** 31
  }
  for (const databases of [1, 3, 120]) {
    const dir = tempDir()
    const path = join(dir, LMDB_FILE)
    try {
      for (let session = 0; session < 3; session++) {
        const root = open<Buffer, Buffer>({
          path,
          noSubdir: true,
          maxDbs: 128,
          encoding: 'binary',
          keyEncoding: 'binary'
        })
        const dbs = Array.from({ length: databases }, (_, i) =>
          root.openDB<Buffer, Buffer>(`store:${i}`, { encoding: 'binary', keyEncoding: 'binary' })
        )
        for (let t = 0; t < 8; t++) {
          root.transactionSync(() => {
            for (let k = 0; k < 1_500; k++) {
              const db = dbs[Math.floor(random() * dbs.length)]!
              const key = Buffer.from(`k${Math.floor(random() * 4_000)}`)
              const r = random()
              if (r < 0.2) db.removeSync(key)
              else db.putSync(key, Buffer.alloc(r > 0.98 ? 10_000 : Math.floor(random() * 200), 1))
            }
            if (t === 5 && session === 1) for (const db of dbs) db.clearSync()
          })
        }
        await root.close()
        const check = checkLmdbFile(path)
        assert.ok(check.ok, `${databases} databases, session ${session}: ${check.ok ? '' : check.reason}`)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
})
