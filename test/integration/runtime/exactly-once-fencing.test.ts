/**
 * Zombie fencing under exactly-once (issue 5): a producer fenced by a newer epoch closes its tasks without
 * committing and the member rejoins; the process never crashes and nothing is counted twice.
 *
 * - Fenced by a newer producer: the test starts a producer with an instance's transactional id while the instance
 *   processes, which is what a zombie's replacement does. The instance must recover and keep counting.
 * - Fenced by the broker: an instance is frozen (SIGSTOP) inside a transaction while input flows, until the broker
 *   aborts that transaction for its timeout (bumping the epoch); thawed (SIGCONT), it is a zombie with a dead epoch.
 *   Both orders are tested. Within its session timeout, it is still a member when it wakes up: it writes, and the
 *   broker fences its producer (the broker-side fencing path). Past its session timeout, its membership check stops
 *   it first: it holds every write, learns that its tasks are lost, and closes them without writing.
 *
 * Both assert the same outcome: read_committed counts equal the truth for every word, each word's count updates
 * strictly increase (nothing from aborted work is visible), and every instance is still alive and running tasks.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { createPartitionReader } from '../../../src/kafka/partition-reader.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { AppInstance, killAll } from './instances.ts'
import { createTopics, readTopic } from './support.ts'
import { WordCounts } from './word-counts.ts'

const module = fileURLToPath(new URL('../../../examples/word-count/app.ts', import.meta.url))
const PARTITIONS = 3
const WORDS = 50

interface Run {
  appId: string
  lines: string
  counts: string
  truth: Map<string, number>
  instances: AppInstance[]
  dirs: string[]
  /** Stops the background input (see produceContinuously); resolves with the lines sent. */
  stopInput: () => Promise<number>
}

async function setUp(name: string, instances: number, env: Record<string, string> = {}): Promise<Run> {
  const run: Run = {
    appId: uniqueName(name),
    lines: uniqueName(`${name}-lines`),
    counts: uniqueName(`${name}-counts`),
    truth: new Map(),
    instances: [],
    dirs: [],
    stopInput: async () => 0
  }
  await createTopics([
    { name: run.lines, partitions: PARTITIONS },
    { name: run.counts, partitions: PARTITIONS }
  ])
  for (let slot = 0; slot < instances; slot++) {
    const dir = mkdtempSync(join(tmpdir(), `streamlane-${name}-`))
    run.dirs.push(dir)
    run.instances.push(
      new AppInstance(`${name}-${slot}`, module, {
        STREAMLANE_APPLICATION_ID: run.appId,
        STREAMLANE_PROCESSING_GUARANTEE: 'exactly_once_v2',
        LINES_TOPIC: run.lines,
        WORD_COUNTS_TOPIC: run.counts,
        STREAMLANE_STATE_DIR: dir,
        STREAMLANE_SESSION_TIMEOUT_MS: '6000',
        STREAMLANE_HEARTBEAT_INTERVAL_MS: '500',
        STREAMLANE_TRANSACTION_TIMEOUT_MS: '5000',
        // Fencing needs the frozen instance to own count tasks from its first assignment; with high availability
        // (the default) a newcomer may first get warm-ups. Placement under HA: high-availability tests, chaos test.
        STREAMLANE_HIGH_AVAILABILITY: 'false',
        ...env
      })
    )
  }
  await waitFor('every instance running tasks', () => run.instances.every((i) => i.runningAssignment()), {
    timeoutMs: 60_000
  })
  return run
}

async function tearDown(run: Run): Promise<void> {
  await run.stopInput()
  await killAll(run.instances)
  for (const dir of run.dirs) rmSync(dir, { recursive: true, force: true })
}

/** Produces lines in the background, one word each, until `run.stopInput()`. */
function produceContinuously(run: Run): void {
  const producer = createProducer({ brokers: testBrokers() })
  let stopped = false
  let sent = 0
  const loop = (async () => {
    while (!stopped) {
      const batch = []
      for (let i = 0; i < 200; i++, sent++) {
        const word = `w${sent % WORDS}`
        run.truth.set(word, (run.truth.get(word) ?? 0) + 1)
        batch.push({ topic: run.lines, key: Buffer.from(String(sent)), value: Buffer.from(word) })
      }
      await producer.send(batch)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  run.stopInput = async () => {
    if (!stopped) {
      stopped = true
      await loop
      await producer.close()
    }
    return sent
  }
}

/**
 * Waits until the committed output holds every word's true count, then checks no update repeats or goes back. A
 * timeout names the words whose count differs from the truth: a few words off point at one count task, every word
 * short by a similar amount at input partitions nobody read or committed.
 */
async function assertExactCounts(run: Run): Promise<void> {
  let seen: ConsumedRecord[] = []
  const matches = (records: ConsumedRecord[]) => {
    seen = records
    const { latest } = new WordCounts().add(records)
    return [...run.truth].every(([word, count]) => latest.get(word) === BigInt(count))
  }
  const records = await readTopic(run.counts, PARTITIONS, matches, 120_000).catch((error: Error) => {
    const { latest } = new WordCounts().add(seen)
    const off = [...run.truth]
      .filter(([word, count]) => latest.get(word) !== BigInt(count))
      .map(([word, count]) => `${word} ${latest.get(word) ?? 'none'} of ${count}`)
    throw new Error(`${error.message}; counts that differ from the truth: ${off.join(', ')}`)
  })
  const { latest, notIncreasing } = new WordCounts().add(records)
  assert.equal(latest.size, WORDS)
  for (const [word, count] of run.truth) assert.equal(latest.get(word), BigInt(count), `count of ${word}`)
  assert.deepEqual(
    notIncreasing.slice(0, 10),
    [],
    'count updates that repeat or go back: work of a fenced producer made visible'
  )
}

function fencingWarnings(instance: AppInstance): number {
  return instance.log.split('\n').filter((line) => line.includes('"msg":"producer fenced;')).length
}

function transactionalIdOf(instance: AppInstance): string {
  const line = instance.log.split('\n').find((l) => l.includes('"msg":"exactly-once producer created"'))
  assert.ok(line, `${instance.name} logged no transactional id`)
  return (JSON.parse(line) as { transactionalId: string }).transactionalId
}

/** Runs counted from the log: an "assignment running" with tasks after `mark` (a log length). */
function runsTasksAfter(instance: AppInstance, mark: number): boolean {
  return /"active":\["[^\n]*"msg":"assignment running"/.test(instance.log.slice(mark))
}

test('an instance fenced by a newer producer with its transactional id closes its tasks, rejoins and counts exactly', async () => {
  const run = await setUp('fence-epoch', 2)
  try {
    produceContinuously(run)
    const [victim, other] = run.instances as [AppInstance, AppInstance]
    // Every input partition has a committed offset once both instances' producers have committed a transaction; a
    // usurper that came first would itself be fenced by the victim's first InitProducerId.
    const admin = createAdmin({ brokers: testBrokers() })
    try {
      await waitFor('both instances committing', async () => {
        const offsets = await admin.fetchGroupOffsets(run.appId, [run.lines])
        return offsets.length === PARTITIONS && offsets.every((o) => o.offset > 0n)
      })
    } finally {
      await admin.close()
    }
    const mark = victim.log.length
    // What the replacement of a zombie does: InitProducerId with the same transactional id bumps the epoch.
    const usurper = createProducer({ brokers: testBrokers(), transactionalId: transactionalIdOf(victim) })
    await usurper.beginTransaction()
    await usurper.abortTransaction()
    await usurper.close()
    await waitFor('the victim fenced', () => fencingWarnings(victim) > 0, { timeoutMs: 30_000 }).catch((error: Error) =>
      assert.fail(`${error.message}; its log:\n${victim.log.slice(mark, mark + 5000)}`)
    )
    await waitFor('the victim running tasks again', () => runsTasksAfter(victim, mark), { timeoutMs: 60_000 })
    await run.stopInput()
    await assertExactCounts(run)
    for (const instance of [victim, other]) {
      assert.equal(instance.child.exitCode, null, `${instance.name} exited; its log:\n${instance.log.slice(-3000)}`)
      assert.doesNotMatch(instance.log, /processing stopped on an error/)
    }
    assert.equal(fencingWarnings(other), 0, 'only the fenced instance recovers')
  } finally {
    await tearDown(run)
  }
})

/** The tasks of the instance's latest running assignment. */
function activeTasksOf(instance: AppInstance): string[] {
  const lines = instance.log.split('\n').filter((line) => line.includes('"msg":"assignment running"'))
  return (JSON.parse(lines.at(-1)!) as { active: string[] }).active
}

/** Per partition of `topic`: the high watermark and the last stable offset (what read_committed readers reach). */
async function ends(admin: KafkaAdmin, topic: string): Promise<Map<number, { high: bigint; stable: bigint }>> {
  const high = (await admin.listOffsets([{ topic }], 'latest')).get(topic)!
  const stable = (await admin.listOffsets([{ topic }], 'latest', { isolation: 'read_committed' })).get(topic)!
  return new Map([...high].map(([partition, h]) => [partition, { high: h, stable: stable.get(partition)! }]))
}

/**
 * Whether a read_committed reader sees any record in [from, to) of these partitions of `topic`: the writes of a
 * transaction that committed. Call once the transaction is settled (the stable offsets are past `to`).
 */
async function anyCommitted(topic: string, spans: { partition: number; from: bigint; to: bigint }[]): Promise<boolean> {
  const reader = createPartitionReader({ brokers: testBrokers(), isolation: 'read_committed' })
  try {
    await reader.assign(spans.map(({ partition, from }) => ({ topic, partition, offset: from })))
    let committed = false
    await waitFor('reading the frozen transaction back', async () => {
      for (const record of await reader.poll(200)) {
        if (record.offset < spans.find((s) => s.partition === record.partition)!.to) committed = true
      }
      return committed || spans.every(({ partition, to }) => (reader.position(topic, partition) ?? -1n) >= to)
    })
    return committed
  } finally {
    await reader.close()
  }
}

/** Log lines after `mark` whose message starts with `message`. */
function logged(instance: AppInstance, mark: number, message: string): number {
  return instance.log.slice(mark).indexOf(`"msg":"${message}`)
}

/**
 * Freezes an instance inside a transaction with writes until the broker aborted that transaction, thaws it, and
 * checks that it recovers and that the counts are exact. Returns the thawed instance and where its log was at the
 * freeze, for the checks of the order in which the zombie met its fate.
 */
async function frozenPastTransactionTimeout(
  name: string,
  sessionTimeoutMs: number
): Promise<{ frozen: AppInstance; mark: number }> {
  // Without the record cache every count is written as it is made, so a transaction almost always holds writes.
  const run = await setUp(name, 2, {
    STREAMLANE_CACHE_MAX_BYTES: '0',
    STREAMLANE_SESSION_TIMEOUT_MS: String(sessionTimeoutMs)
  })
  const admin = createAdmin({ brokers: testBrokers() })
  try {
    produceContinuously(run)
    // The instance to freeze is one that runs a count task: the transactions it leaves open show in that task's
    // changelog partition. Which instance that is, is the assignor's choice.
    const runsCountTask = (instance: AppInstance) =>
      instance.log.includes('"msg":"assignment running"') && activeTasksOf(instance).some((t) => t.startsWith('1_'))
    await waitFor('an instance running a count task', () => run.instances.some(runsCountTask))
    const frozen = run.instances.find(runsCountTask)!
    const other = run.instances.find((instance) => instance !== frozen)!
    // Changelog partitions of the frozen instance's count tasks: nobody else writes them.
    const changelog = `${run.appId}-counts-changelog`
    const own = activeTasksOf(frozen)
      .filter((task) => task.startsWith('1_'))
      .map((task) => Number(task.slice(2)))
    assert.ok(own.length > 0, `the frozen instance runs no count task: ${activeTasksOf(frozen)}`)
    // Freeze it while its transaction holds writes (a stable offset below the high watermark), and keep it frozen until
    // the broker settled that transaction (stable offsets past those writes). Aborted for its timeout, the writes are
    // invisible to read_committed readers. A freeze between two transactions, or one just after the commit went out
    // (the broker then completes it and the writes become visible), is thawed and tried again: nothing would fence it.
    let aborted = false
    for (let attempt = 0; attempt < 20 && !aborted; attempt++) {
      frozen.signal('SIGSTOP')
      const atFreeze = await ends(admin, changelog)
      const open = own
        .filter((p) => atFreeze.get(p)!.stable < atFreeze.get(p)!.high)
        .map((p) => ({ partition: p, from: atFreeze.get(p)!.stable, to: atFreeze.get(p)!.high }))
      if (open.length > 0) {
        await waitFor(
          'the broker settling the frozen transaction',
          async () => {
            const now = await ends(admin, changelog)
            return open.every(({ partition, to }) => now.get(partition)!.stable >= to)
          },
          { timeoutMs: 60_000, intervalMs: 200 }
        )
        aborted = !(await anyCommitted(changelog, open))
        if (aborted) break
      }
      frozen.signal('SIGCONT')
      const progress = atFreeze.get(own[0]!)!.high
      await waitFor('the frozen instance writing again', async () => {
        return (await ends(admin, changelog)).get(own[0]!)!.high > progress
      })
    }
    assert.ok(aborted, 'never caught the instance inside a transaction with writes that the broker then aborted')
    const mark = frozen.log.length
    frozen.signal('SIGCONT')
    const withLogs = (error: Error) =>
      assert.fail(
        `${error.message}; the thawed instance's log from just before the freeze:\n` +
          `${frozen.log.slice(Math.max(0, mark - 1500), mark + 6000)}\nthe other instance's log:\n${other.log.slice(-3000)}`
      )
    await waitFor(
      'the thawed instance fenced, or told that its tasks are lost',
      () => fencingWarnings(frozen) > 0 || frozen.log.slice(mark).includes('"msg":"tasks lost'),
      { timeoutMs: 30_000 }
    ).catch(withLogs)
    await waitFor('the thawed instance running tasks again', () => runsTasksAfter(frozen, mark), {
      timeoutMs: 60_000
    }).catch(withLogs)
    await run.stopInput()
    await assertExactCounts(run).catch(withLogs)
    for (const instance of [frozen, other]) {
      assert.equal(instance.child.exitCode, null, `${instance.name} exited; its log:\n${instance.log.slice(-3000)}`)
      assert.doesNotMatch(instance.log, /processing stopped on an error/)
    }
    return { frozen, mark }
  } finally {
    await admin.close()
    await tearDown(run)
  }
}

test('frozen past its transaction timeout but within its session: it writes, the broker fences it, it rejoins', async () => {
  // The freeze (about the 5 s transaction timeout plus the broker's abort check) stays within the session.
  const { frozen, mark } = await frozenPastTransactionTimeout('fence-frozen-member', 20_000)
  assert.ok(logged(frozen, mark, 'producer fenced') >= 0, 'the broker fenced the producer')
  assert.equal(logged(frozen, mark, 'writes held'), -1, 'a member that is still in the group is not held back')
})

test('frozen past its transaction and session timeouts: it holds every write and closes its lost tasks unwritten', async () => {
  const { frozen, mark } = await frozenPastTransactionTimeout('fence-frozen-lost', 3_000)
  const held = logged(frozen, mark, 'writes held')
  assert.ok(held >= 0, `the membership check stopped the zombie; its log:\n${frozen.log.slice(mark, mark + 4000)}`)
  const lost = logged(frozen, mark, 'tasks lost; closed without writing')
  const log = `its log:\n${frozen.log.slice(mark, mark + 4000)}`
  assert.ok(lost > held, `its tasks were closed as lost after the writes were held; ${log}`)
  const fenced = logged(frozen, mark, 'producer fenced')
  assert.ok(fenced === -1 || fenced > held, `no write reached the broker before the membership check; ${log}`)
})
