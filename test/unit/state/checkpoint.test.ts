import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { Serdes } from '../../../src/serde/index.ts'
import {
  CHECKPOINT_FILE,
  type KeyValueStore,
  keyValueStoreBuilder,
  OPEN_MARKER,
  readCheckpointFile,
  StateDirectory,
  StoreCorruptedError,
  TaskStateManager,
  windowStoreBuilder,
  writeCheckpointFile
} from '../../../src/state/index.ts'
import { TaskId } from '../../../src/task-id.ts'
import { RecordingLogger, TaskHarness, tempDir } from './helpers.ts'

const TOPIC = 'app-counts-changelog'
const counts = (options: { logging?: boolean } = {}) =>
  keyValueStoreBuilder({ name: 'counts', keySerde: Serdes.string(), valueSerde: Serdes.string(), ...options })

describe('checkpoints and durability (LMDB)', () => {
  test('commit then reopen: the data and its changelog offset are there, in LMDB and in the checkpoint file', async () => {
    const task = new TaskHarness()
    try {
      let store = task.open(counts())
      store.put('a', '1')
      store.put('b', '2')
      task.commit() // sink offsets: 2
      await task.reopenTask()
      store = task.open(counts())
      assert.equal(store.get('a'), '1')
      assert.equal(store.get('b'), '2')
      assert.deepEqual(task.manager.changelogPartitions(), [
        { store: 'counts', topic: TOPIC, partition: 3, checkpointOffset: 2n }
      ])
      assert.deepEqual(readCheckpointFile(join(task.lease.path, CHECKPOINT_FILE)), [
        { topic: TOPIC, partition: 3, offset: 2n }
      ])
      const [dir] = task.directory.listTaskDirs()
      assert.equal(dir!.taskId, '0_3')
      assert.equal(dir!.inUse, true)
      assert.deepEqual(dir!.checkpoints, [{ topic: TOPIC, partition: 3, offset: 2n }])
    } finally {
      await task.close()
    }
  })

  test('the checkpoint file trails commits below checkpointFileDeltaRecords; a clean close brings it up to date', async () => {
    const task = new TaskHarness()
    const fileOffsets = () => task.directory.listTaskDirs()[0]!.checkpoints.map((c) => c.offset)
    try {
      const store = task.open(counts())
      store.put('a', '1')
      task.commit()
      assert.deepEqual(fileOffsets(), [], 'one record committed: LMDB has it, the file is not rewritten yet')
      store.put('b', '2')
      task.commit()
      await task.reopenTask({ clean: false })
      assert.deepEqual(
        fileOffsets(),
        [],
        'a dirty close writes no file: the reported lag overstates, never understates'
      )
      task.open(counts()).put('c', '3')
      task.commit()
      await task.reopenTask()
      assert.deepEqual(fileOffsets(), [3n], 'a clean close writes what LMDB committed')
    } finally {
      await task.close()
    }
  })

  test('abort discards; uncommitted writes never reach the disk, even when logged', async () => {
    const task = new TaskHarness()
    try {
      let store = task.open(counts())
      store.put('kept', '1')
      task.commit()
      store.put('aborted', '1')
      task.manager.abort()
      store.put('unflushed', '1')
      task.manager.flush() // sent to the changelog, but the Kafka transaction never committed
      await task.reopenTask({ clean: false })
      store = task.open(counts())
      assert.deepEqual(
        [...store.all()].map((e) => e.key),
        ['kept']
      )
      assert.equal(task.manager.changelogPartitions()[0]!.checkpointOffset, 1n)
    } finally {
      await task.close()
    }
  })

  test('every LMDB store of the task commits with its own changelog offset in one commit', async () => {
    const task = new TaskHarness()
    try {
      const first = task.open(counts())
      const second = task.open(
        keyValueStoreBuilder({ name: 'other', keySerde: Serdes.string(), valueSerde: Serdes.string() })
      )
      first.put('a', '1')
      second.put('b', '1')
      second.put('c', '1')
      task.manager.commit(
        new Map([
          [TOPIC, 10n],
          ['app-other-changelog', 20n]
        ])
      )
      assert.deepEqual(
        task.manager.checkpoints().map((c) => [c.topic, c.offset]),
        [
          [TOPIC, 10n],
          ['app-other-changelog', 20n]
        ]
      )
    } finally {
      await task.close()
    }
  })

  test('a SIGKILL after a commit: the restart finds the committed data and offset, not the uncommitted write', async () => {
    const stateDir = tempDir()
    try {
      const child = spawnSync(
        process.execPath,
        [join(import.meta.dirname, 'fixtures', 'crash-after-commit.ts'), stateDir],
        {
          encoding: 'utf8',
          timeout: 30_000
        }
      )
      assert.equal(child.signal, 'SIGKILL', child.stderr)
      assert.match(child.stdout, /committed/)
      const taskDir = join(stateDir, 'app', '0_3')
      assert.ok(existsSync(join(taskDir, OPEN_MARKER)), 'the crash left the open marker behind')

      const logger = new RecordingLogger()
      const directory = StateDirectory.open({ stateDir, applicationId: 'app', logger })
      assert.match(logger.warnings[0]!.message, /taking over the state directory lock/)
      assert.deepEqual(directory.listTaskDirs()[0]!.checkpoints, [{ topic: TOPIC, partition: 3, offset: 5n }])
      const lease = await directory.prepareTask('0_3') // unclean: walks the LMDB file in a child, finds it sound
      assert.equal(logger.warnings.length, 1, JSON.stringify(logger.warnings))
      const manager = new TaskStateManager({ applicationId: 'app', taskId: new TaskId(0, 3), lease, logger })
      const store = manager.createStore(counts()) as KeyValueStore<string, string>
      store.init({ applicationId: 'app', taskId: new TaskId(0, 3), changelogTopic: TOPIC })
      assert.equal(store.get('a'), '1')
      assert.equal(store.get('b'), null)
      assert.equal(manager.changelogPartitions()[0]!.checkpointOffset, 5n)
      await manager.close()
      assert.ok(!existsSync(join(taskDir, OPEN_MARKER)), 'a clean close removes the marker')
      directory.close()
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })

  test('checkpoint files are written atomically and validated when read', () => {
    const dir = tempDir()
    try {
      const path = join(dir, CHECKPOINT_FILE)
      assert.deepEqual(readCheckpointFile(path), [])
      writeCheckpointFile(path, [{ topic: 't', partition: 1, offset: 2n ** 62n }])
      assert.deepEqual(readCheckpointFile(path), [{ topic: 't', partition: 1, offset: 2n ** 62n }])
      assert.deepEqual(readdirSync(dir), [CHECKPOINT_FILE], 'no temporary file left behind')
      writeFileSync(path, '{"version":1,"offsets":[{"topic":"t"')
      assert.throws(() => readCheckpointFile(path), StoreCorruptedError)
      writeFileSync(path, '{"version":9,"offsets":[]}')
      assert.throws(() => readCheckpointFile(path), /unknown layout/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('data without a checkpoint for its changelog is cleared (with a warning) before restoring', async () => {
    const task = new TaskHarness()
    try {
      let store = task.open(counts({ logging: false }))
      store.put('a', '1')
      task.commit()
      await task.reopenTask()
      store = task.open(counts())
      assert.equal(store.get('a'), null)
      assert.match(task.logger.warnings.at(-1)!.message, /no checkpoint for its changelog/)
    } finally {
      await task.close()
    }
  })

  test('a window store whose segment layout changed is cleared (with a warning)', async () => {
    const task = new TaskHarness()
    const windows = (retentionMs: number) =>
      windowStoreBuilder({
        name: 'w',
        keySerde: Serdes.string(),
        valueSerde: Serdes.int32(),
        windowSizeMs: 1000,
        retentionMs
      })
    try {
      let store = task.open(windows(600_000))
      store.put('k', 1, 0)
      task.commit()
      await task.reopenTask()
      store = task.open(windows(600_000))
      assert.equal(store.fetch('k', 0), 1)
      await task.reopenTask()
      store = task.open(windows(3_600_000))
      assert.equal(store.fetch('k', 0), null)
      assert.match(task.logger.warnings.at(-1)!.message, /layout changed/)
    } finally {
      await task.close()
    }
  })
})
