import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  writeSync
} from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { Serdes } from '../../../src/serde/index.ts'
import {
  CHECKPOINT_FILE,
  type KeyValueStore,
  keyValueStoreBuilder,
  LMDB_FILE,
  OPEN_MARKER,
  PROCESS_FILE,
  StateDirectory,
  StateDirectoryLockedError,
  TaskDirectoryLockedError,
  TaskStateManager
} from '../../../src/state/index.ts'
import { TaskId } from '../../../src/task-id.ts'
import { RecordingLogger, TaskHarness, tempDir } from './helpers.ts'

const TOPIC = 'app-counts-changelog'
const counts = () => keyValueStoreBuilder({ name: 'counts', keySerde: Serdes.string(), valueSerde: Serdes.string() })

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''])
  return child.pid!
}

function writeLock(dir: string, holder: Record<string, unknown>): void {
  writeFileSync(
    join(dir, 'app', '.lock'),
    JSON.stringify({ startedAt: new Date().toISOString(), token: randomUUID(), ...holder })
  )
}

describe('StateDirectory', () => {
  let stateDir: string
  let logger: RecordingLogger
  beforeEach(() => {
    stateDir = tempDir()
    logger = new RecordingLogger()
  })
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }))

  const open = (options: Partial<Parameters<typeof StateDirectory.open>[0]> = {}) =>
    StateDirectory.open({ stateDir, applicationId: 'app', logger, ...options })

  test('creates <stateDir>/<appId>/ with a lock and a process id that is stable across restarts', () => {
    const first = open()
    assert.equal(first.appDir, join(stateDir, 'app'))
    assert.ok(existsSync(join(first.appDir, '.lock')))
    const lock = JSON.parse(readFileSync(join(first.appDir, '.lock'), 'utf8'))
    assert.equal(lock.pid, process.pid)
    assert.equal(lock.hostname, hostname())
    const processId = first.processId
    assert.match(processId, /^[0-9a-f-]{36}$/)
    first.close()
    assert.ok(!existsSync(join(first.appDir, '.lock')), 'close releases the lock')
    const second = open()
    assert.equal(second.processId, processId)
    second.close()
    writeFileSync(join(stateDir, 'app', PROCESS_FILE), 'garbage')
    const third = open()
    assert.notEqual(third.processId, processId)
    assert.match(logger.warnings.at(-1)!.message, /process file is unreadable/)
    third.close()
  })

  test('a directory held by another live process is a clear error naming the directory and the holder', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures', 'hold-lock.ts'), stateDir],
      {
        stdio: ['pipe', 'pipe', 'inherit']
      }
    )
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout!.setEncoding('utf8').once('data', resolve)
        child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)))
      })
      assert.match(line, /locked/)
      assert.throws(
        () => open(),
        (error: unknown) =>
          error instanceof StateDirectoryLockedError &&
          error.code === 'STREAMLANE_STATE_DIR_LOCKED' &&
          error.holder.pid === child.pid &&
          error.message.includes(join(stateDir, 'app')) &&
          error.message.includes(`process ${child.pid} on host ${hostname()}`)
      )
    } finally {
      child.stdin!.end()
      await new Promise((resolve) => child.once('exit', resolve))
    }
    open().close() // released by its holder: free again
  })

  test('opening the directory twice in one process is an error too', () => {
    const first = open()
    try {
      assert.throws(() => open(), /this process already holds it/)
    } finally {
      first.close()
    }
  })

  test('a stale lock of a dead process is taken over with a warning', () => {
    open().close()
    const pid = deadPid()
    writeLock(stateDir, { pid, hostname: hostname() })
    const directory = open()
    assert.match(logger.warnings[0]!.message, /taking over the state directory lock: process \d+ is not running/)
    assert.equal((logger.warnings[0]!.fields.previousHolder as { pid: number }).pid, pid)
    directory.close()
  })

  test('a lock whose pid now runs a different process (a restarted container reuses pids) is taken over', () => {
    open().close()
    // Our parent is alive, but it is not the process that wrote this lock: its start time differs.
    writeLock(stateDir, { pid: process.ppid, hostname: hostname(), processStart: '1' })
    const directory = open()
    assert.match(logger.warnings[0]!.message, /now belongs to another process/)
    directory.close()
  })

  test('a lock from another host counts as held until it goes unrefreshed for foreignLockStaleMs', () => {
    open().close()
    writeLock(stateDir, { pid: 1, hostname: 'pod-elsewhere-0' })
    assert.throws(() => open({ foreignLockStaleMs: 60_000 }), /process 1 on host pod-elsewhere-0.*refreshed the lock/)
    const old = new Date(Date.now() - 120_000)
    utimesSync(join(stateDir, 'app', '.lock'), old, old)
    const directory = open({ foreignLockStaleMs: 60_000 })
    assert.match(logger.warnings[0]!.message, /pod-elsewhere-0 has not refreshed it/)
    directory.close()
  })

  test('task directories are leased once per process', () => {
    const directory = open()
    const lease = directory.lockTask('1_2')
    assert.equal(lease.path, join(stateDir, 'app', '1_2'))
    assert.throws(() => directory.lockTask('1_2'), TaskDirectoryLockedError)
    assert.throws(() => directory.close(), /while tasks 1_2 are open/)
    lease.release()
    directory.lockTask('1_2').release()
    directory.close()
  })

  test('cleans directories of tasks not owned for longer than the delay, never owned or open ones', () => {
    let now = Date.now()
    const directory = open({ now: () => now, stateCleanupDelayMs: 600_000 })
    for (const id of ['0_0', '0_1', '0_2']) directory.lockTask(id).release()
    const open03 = directory.lockTask('0_3')
    writeFileSync(join(directory.appDir, 'not-a-task'), '')
    now += 60_000
    assert.deepEqual(directory.cleanRemovedTasks(['0_0']), [], 'within the delay nothing goes')
    now += 600_000
    assert.deepEqual(directory.cleanRemovedTasks(['0_0']), ['0_1', '0_2'])
    assert.deepEqual(
      directory.listTaskDirs().map((d) => d.taskId),
      ['0_0', '0_3']
    )
    open03.release()
    directory.close()
  })
})

describe('corrupted state is wiped with a warning, never a crash', () => {
  let stateDir: string
  let lmdbPath: string

  beforeEach(async () => {
    stateDir = tempDir()
    const task = new TaskHarness({ stateDir })
    const store = task.open(counts())
    for (let i = 0; i < 20_000; i++) store.put(`key-${i}`, 'x'.repeat(100))
    task.commit()
    lmdbPath = join(task.lease.path, LMDB_FILE)
    await task.close()
  })
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }))

  async function reopen(options: { verifyOnOpen?: 'unclean' | 'always' | 'never'; prepare?: boolean } = {}) {
    const logger = new RecordingLogger()
    const directory = StateDirectory.open({
      stateDir,
      applicationId: 'app',
      logger,
      verifyOnOpen: options.verifyOnOpen ?? 'unclean'
    })
    const lease = options.prepare === false ? directory.lockTask('0_3') : await directory.prepareTask('0_3')
    const manager = new TaskStateManager({ applicationId: 'app', taskId: new TaskId(0, 3), lease, logger })
    const store = manager.createStore(counts()) as KeyValueStore<string, string>
    store.init({ applicationId: 'app', taskId: new TaskId(0, 3), changelogTopic: TOPIC })
    const result = {
      logger,
      entries: store.approximateNumEntries(),
      offset: manager.changelogPartitions()[0]!.checkpointOffset
    }
    await manager.close()
    directory.close()
    return result
  }

  test('an intact file reopens with its data', async () => {
    const { entries, offset, logger } = await reopen()
    assert.equal(entries, 20_000)
    assert.equal(offset, 20_000n)
    assert.deepEqual(logger.warnings, [])
  })

  test('a truncated LMDB file (which would SIGBUS the process) is wiped', async () => {
    truncateSync(lmdbPath, Math.floor(statSync(lmdbPath).size / 2))
    const { entries, offset, logger } = await reopen()
    assert.equal(entries, 0)
    assert.equal(offset, null, 'no checkpoint: restore from the beginning')
    assert.match(logger.warnings[0]!.message, /wiping corrupted task state/)
    assert.match(String(logger.warnings[0]!.fields.reason), /truncated/)
  })

  test('garbled meta pages (which would segfault LMDB) are wiped, also when opened without prepareTask', async () => {
    const fd = openSync(lmdbPath, 'r+')
    writeSync(fd, Buffer.alloc(8192, 0xab), 0, 8192, 0)
    closeSync(fd)
    const { entries, logger } = await reopen({ prepare: false })
    assert.equal(entries, 0)
    assert.match(logger.warnings[0]!.message, /wiping corrupted task state/)
  })

  test('garbled B-tree pages after an unclean shutdown are found by the deep walk and wiped', async () => {
    const fd = openSync(lmdbPath, 'r+')
    writeSync(fd, Buffer.alloc(40_960, 0xab), 0, 40_960, 200_000)
    closeSync(fd)
    writeFileSync(join(stateDir, 'app', '0_3', OPEN_MARKER), '1\n') // the last run died
    const { entries, logger } = await reopen()
    assert.equal(entries, 0)
    assert.match(logger.warnings[0]!.message, /wiping corrupted task state/)
    assert.match(String(logger.warnings[0]!.fields.reason), /MDB_PAGE_NOTFOUND|not found|read \d+ entries/)
  })

  test('an unreadable checkpoint file is deleted with a warning; LMDB keeps its own checkpoint', async () => {
    writeFileSync(join(stateDir, 'app', '0_3', CHECKPOINT_FILE), '\u0000\u0001garbage')
    const { entries, offset, logger } = await reopen()
    assert.equal(entries, 20_000)
    assert.equal(offset, 20_000n)
    assert.match(logger.warnings[0]!.message, /unreadable checkpoint file/)
  })
})
