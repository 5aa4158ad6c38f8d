/**
 * Issue 5: "a corrupt or truncated store file under exactly-once is detected, wiped and restored, with a warning",
 * on the real broker. An exactly-once word count runs as a child process on 5 partitions with its own state dir
 * until every input line is counted in the committed output, and is stopped: SIGKILL in one test, SIGTERM (a clean
 * shutdown, after which no deep walk runs) in the other. Then the state of four of its five counting tasks is
 * damaged on disk, each differently: an LMDB file truncated to a third of its size; one whose B-tree pages are
 * overwritten with random bytes (after SIGKILL every page but the roots, which only the deep walk can find; after
 * SIGTERM every page but the meta pages, roots included); one whose two meta pages are; and a garbled
 * `.checkpoint` file. Restarted with the same state dir:
 *
 * - each damaged LMDB file is reported (warning naming the task and the file) and wiped, and its task restores its
 *   WHOLE changelog partition: the "task restored" record count equals the partition's committed records;
 * - the garbled checkpoint file is reported and deleted; LMDB keeps its own checkpoint, so that task, like the
 *   untouched one, restores from it: at most the last commit's worth, never the whole changelog;
 * - after more input, read_committed counts equal the truth for every word, and each word's count updates in the
 *   output are strictly increasing (no duplicate update from replayed or aborted work).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createAdmin } from '../../../src/kafka/admin.ts'
import {
  createPartitionReader,
  type KafkaPartitionReader,
  OFFSET_EARLIEST
} from '../../../src/kafka/partition-reader.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { lmdbLayout } from '../../support/lmdb-pages.ts'
import { waitFor } from '../../support/wait.ts'
import { AppInstance, killAll } from './instances.ts'
import { createTopics } from './support.ts'
import { WordCounts } from './word-counts.ts'

const PARTITIONS = 5
const WORDS = 10_000
/** Lines before the crash: with the record cache off every one is a changelog record, ~16,000 per counting task. */
const FIRST = 80_000
const SECOND = 20_000
const module = fileURLToPath(new URL('../../../examples/word-count/app.ts', import.meta.url))
const WIPE_WARNING = 'wiping corrupted task state; it will be restored from the changelog'
const CHECKPOINT_WARNING = 'deleting an unreadable checkpoint file'

type Damage = 'truncated' | 'garbage-below-roots' | 'garbage-all-pages' | 'garbage-meta' | 'checkpoint' | 'untouched'
const WIPED: readonly Damage[] = ['truncated', 'garbage-below-roots', 'garbage-all-pages', 'garbage-meta']

const wordOf = (line: number) => `w${line % WORDS}`

async function produceLines(topic: string, from: number, to: number): Promise<void> {
  const producer = createProducer({ brokers: testBrokers() })
  try {
    for (let start = from; start < to; start += 10_000) {
      const batch = []
      for (let i = start; i < Math.min(to, start + 10_000); i++) {
        batch.push({ topic, key: Buffer.from(String(i)), value: Buffer.from(wordOf(i)) })
      }
      await producer.send(batch)
    }
  } finally {
    await producer.close()
  }
}

/**
 * Follows the word counts (read_committed) through a whole test: each word's latest count, and every update that
 * repeats or goes back.
 */
class CountsFollower extends WordCounts {
  readonly topic: string
  readonly #reader: KafkaPartitionReader

  constructor(topic: string) {
    super()
    this.topic = topic
    this.#reader = createPartitionReader({ brokers: testBrokers(), isolation: 'read_committed', copyBuffers: true })
  }

  async start(): Promise<void> {
    await this.#reader.assign(
      Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: this.topic, partition, offset: OFFSET_EARLIEST }))
    )
  }

  /** Reads until every word has count `expected` (and no update is pending that could change it). */
  async until(expected: bigint, timeoutMs: number): Promise<void> {
    await waitFor(
      `every word counted ${expected} times`,
      async () => {
        this.add(await this.#reader.poll(200))
        return this.latest.size === WORDS && [...this.latest.values()].every((c) => c === expected)
      },
      { timeoutMs, intervalMs: 1 }
    )
  }

  close(): Promise<void> {
    return this.#reader.close()
  }
}

/** Committed data records per partition of `topic` (transaction markers and aborted records are not records). */
async function committedRecords(topic: string): Promise<Map<number, number>> {
  const admin = createAdmin({ brokers: testBrokers() })
  const reader = createPartitionReader({ brokers: testBrokers(), isolation: 'read_committed' })
  try {
    const ends = (await admin.listOffsets([{ topic }], 'latest', { isolation: 'read_committed' })).get(topic)!
    const counts = new Map<number, number>([...ends.keys()].map((p) => [p, 0]))
    await reader.assign([...ends.keys()].map((partition) => ({ topic, partition, offset: OFFSET_EARLIEST })))
    await waitFor(
      `the end of ${topic}`,
      async () => {
        for (const record of await reader.poll(200)) counts.set(record.partition, counts.get(record.partition)! + 1)
        return [...ends].every(([p, end]) => (reader.position(topic, p) ?? 0n) >= end)
      },
      { timeoutMs: 30_000, intervalMs: 1 }
    )
    return counts
  } finally {
    await reader.close()
    await admin.close()
  }
}

/** The JSON log lines of an instance with message `msg`. */
function logLines(instance: AppInstance, msg: string): Record<string, unknown>[] {
  return instance.log
    .split('\n')
    .filter((line) => line.includes(`"msg":${JSON.stringify(msg)}`))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

function overwrite(path: string, from: number, length: number): void {
  const fd = openSync(path, 'r+')
  try {
    writeSync(fd, randomBytes(length), 0, length, from)
  } finally {
    closeSync(fd)
  }
}

/** Damages the task directory `dir` as `damage` says; returns the damaged file. */
function corrupt(dir: string, damage: Damage): string {
  const lmdb = join(dir, 'stores.lmdb')
  const checkpoint = join(dir, '.checkpoint')
  const { pageSize, pages, roots } = lmdbLayout(lmdb)
  assert.ok(pages >= 16, `${lmdb} holds real data (${pages} pages)`)
  switch (damage) {
    case 'truncated':
      truncateSync(lmdb, Math.floor((pages * pageSize) / 3))
      return lmdb
    case 'garbage-below-roots': {
      // The roots stay sound, so the file passes the pre-open check; the branches and leaves under them do not.
      const keep = new Set([0, 1, ...roots.values()])
      for (let page = 2; page < pages; page++) if (!keep.has(page)) overwrite(lmdb, page * pageSize, pageSize)
      return lmdb
    }
    case 'garbage-all-pages':
      overwrite(lmdb, 2 * pageSize, (pages - 2) * pageSize)
      return lmdb
    case 'garbage-meta':
      overwrite(lmdb, 0, 2 * pageSize)
      return lmdb
    case 'checkpoint':
      assert.ok(existsSync(checkpoint), `${checkpoint} exists`)
      writeFileSync(checkpoint, Buffer.concat([Buffer.from('{"version":1,"offsets":[{"topic":'), randomBytes(64)]))
      return checkpoint
    case 'untouched':
      return lmdb
  }
}

/**
 * Counts words, stops the instance with `stop`, damages the counting tasks' state (`damage`: task -> what; task
 * `1_<p>` counts partition p of the repartition topic, sub-topology 0 only splits lines), restarts and checks.
 */
async function corruptAndRestart(stop: 'SIGKILL' | 'SIGTERM', damage: Record<string, Damage>): Promise<void> {
  const started = Date.now()
  const appId = uniqueName('eos-corrupt')
  const lines = uniqueName('eos-corrupt-lines')
  const counts = uniqueName('eos-corrupt-counts')
  const changelog = `${appId}-counts-changelog`
  const stateDir = mkdtempSync(join(tmpdir(), 'streamlane-eos-corrupt-'))
  const taskDir = (task: string) => join(stateDir, appId, task)
  const instances: AppInstance[] = []
  const follower = new CountsFollower(counts)
  const start = (name: string) => {
    const instance = new AppInstance(name, module, {
      STREAMLANE_LOG_LEVEL: 'info',
      STREAMLANE_APPLICATION_ID: appId,
      STREAMLANE_PROCESSING_GUARANTEE: 'exactly_once_v2',
      LINES_TOPIC: lines,
      WORD_COUNTS_TOPIC: counts,
      STREAMLANE_STATE_DIR: stateDir,
      STREAMLANE_GROUP_INSTANCE_ID: 'eos-corrupt',
      STREAMLANE_SESSION_TIMEOUT_MS: '10000',
      STREAMLANE_HEARTBEAT_INTERVAL_MS: '1000',
      // Every update is a changelog record and an output record: stores hold real data, restores are measurable.
      STREAMLANE_CACHE_MAX_BYTES: '0'
    })
    instances.push(instance)
    return instance
  }
  try {
    await createTopics([
      { name: lines, partitions: PARTITIONS },
      { name: counts, partitions: PARTITIONS }
    ])
    await follower.start()
    await produceLines(lines, 0, FIRST)
    const first = start('first')
    await follower.until(BigInt(FIRST / WORDS), 60_000).catch((error: Error) => {
      assert.fail(`${error.message}; the instance's log:\n${first.log.slice(-3000)}`)
    })
    first.signal(stop)
    const firstExit = await first.exited
    if (stop === 'SIGTERM') assert.equal(firstExit, 0, `a clean shutdown; the log:\n${first.log.slice(-3000)}`)

    const damaged = new Map<string, string>()
    for (const [task, kind] of Object.entries(damage)) damaged.set(task, corrupt(taskDir(task), kind))
    const wiped = Object.keys(damage).filter((task) => WIPED.includes(damage[task]!))

    const restartedAt = Date.now()
    const second = start('second')
    // A task whose checkpoint is at the changelog's end logs a plan and nothing restored; the others "task restored".
    const restoredBy = (task: string): number | null => {
      const done = logLines(second, 'task restored').find((l) => l.task === task)
      if (done) return done.records as number
      const plan = logLines(second, 'restore plan').find((l) => l.task === task)
      const upToDate = plan && (plan.changelogs as { from: string | null }[]).every((c) => c.from === null)
      return upToDate ? 0 : null
    }
    await waitFor('every counting task restored', () => Object.keys(damage).every((t) => restoredBy(t) !== null), {
      timeoutMs: 60_000
    }).catch((error: Error) => assert.fail(`${error.message}; the instance's log:\n${second.log.slice(-3000)}`))
    const restoredAt = Date.now()

    // No input came since the stop, so the changelog holds what the restores read.
    const changelogRecords = await committedRecords(changelog)
    const wipes = logLines(second, WIPE_WARNING)
    const checkpointWarnings = logLines(second, CHECKPOINT_WARNING)
    const report: string[] = []
    for (const [task, kind] of Object.entries(damage)) {
      const partition = Number(task.split('_')[1])
      const records = changelogRecords.get(partition)!
      const restored = restoredBy(task)!
      const wipe = wipes.filter((l) => l.task === task)
      const reason = String(wipe[0]?.reason ?? '').replace(/^.*stores\.lmdb: /, '')
      report.push(`${task} ${kind}: restored ${restored} of ${records}${reason ? ` (${reason})` : ''}`)
      if (wiped.includes(task)) {
        assert.equal(wipe.length, 1, `one wipe warning for ${task}: ${JSON.stringify(wipes)}`)
        assert.ok(
          JSON.stringify(wipe[0]).includes(damaged.get(task)!),
          `the warning names ${damaged.get(task)}: ${JSON.stringify(wipe[0])}`
        )
        assert.ok(records > 10_000, `${task}'s changelog holds real data (${records} records)`)
        assert.equal(restored, records, `${task} (${kind}) restores its whole changelog`)
        const plan = logLines(second, 'restore plan').find((l) => l.task === task)!
        assert.equal(
          (plan.changelogs as { checkpoint: string | null }[])[0]!.checkpoint,
          null,
          `${task} has no checkpoint`
        )
      } else {
        assert.equal(wipe.length, 0, `${task} (${kind}) is not wiped: ${JSON.stringify(wipe)}`)
        const plan = logLines(second, 'restore plan').find((l) => l.task === task)!
        assert.notEqual(
          (plan.changelogs as { checkpoint: string | null }[])[0]!.checkpoint,
          null,
          `${task} (${kind}) restores from the checkpoint its store kept`
        )
        // A SIGKILL right after the counts became visible can land between the Kafka commit and the local one, so up
        // to one commit's worth is restored (thousands of records on a loaded machine); a wipe would restore it all.
        assert.ok(restored < records * 0.5, `${task} (${kind}) restores a fraction: ${restored} of ${records}`)
      }
      const checkpointWarning = checkpointWarnings.filter((l) => l.task === task)
      if (kind === 'checkpoint') {
        assert.equal(checkpointWarning.length, 1, `one checkpoint warning for ${task}`)
        assert.ok(
          JSON.stringify(checkpointWarning[0]).includes(damaged.get(task)!),
          `the warning names ${damaged.get(task)}: ${JSON.stringify(checkpointWarning[0])}`
        )
      } else {
        assert.equal(checkpointWarning.length, 0, `no checkpoint warning for ${task}`)
      }
    }
    assert.equal(wipes.length, wiped.length, `wipe warnings: ${JSON.stringify(wipes)}`)

    await produceLines(lines, FIRST, FIRST + SECOND)
    await follower.until(BigInt((FIRST + SECOND) / WORDS), 60_000).catch((error: Error) => {
      assert.fail(`${error.message}; the instance's log:\n${second.log.slice(-3000)}`)
    })
    assert.equal(follower.latest.size, WORDS)
    for (let w = 0; w < WORDS; w++) assert.equal(follower.latest.get(`w${w}`), BigInt((FIRST + SECOND) / WORDS))
    assert.deepEqual(follower.notIncreasing.slice(0, 10), [], 'count updates that repeat or go back')
    console.log(
      `after ${stop}: ${report.join('; ')}; restart to restored ${((restoredAt - restartedAt) / 1000).toFixed(1)} s, ` +
        `whole test ${((Date.now() - started) / 1000).toFixed(1)} s`
    )
    second.signal('SIGTERM')
    assert.equal(await second.exited, 0)
  } finally {
    await follower.close()
    await killAll(instances)
    rmSync(stateDir, { recursive: true, force: true })
  }
}

test('exactly-once after SIGKILL: truncated and garbled store files are wiped and restored whole; counts exact', () =>
  corruptAndRestart('SIGKILL', {
    '1_0': 'truncated',
    '1_1': 'garbage-below-roots',
    '1_2': 'garbage-meta',
    '1_3': 'checkpoint',
    '1_4': 'untouched'
  }))

test('exactly-once after a clean shutdown: a file garbled wholesale is wiped before LMDB maps it; counts exact', () =>
  corruptAndRestart('SIGTERM', {
    '1_0': 'truncated',
    '1_1': 'garbage-all-pages',
    '1_2': 'garbage-meta',
    '1_3': 'checkpoint',
    '1_4': 'untouched'
  }))
