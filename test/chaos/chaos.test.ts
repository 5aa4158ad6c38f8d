/**
 * Chaos on the real broker, for at-least-once and exactly-once alike (issue 12): 3 instances of the ledger app (a
 * windowed aggregate and a running total per account, record cache on) as child processes, payments flowing while
 * instances are SIGKILLed, frozen (SIGSTOP) past the transaction timeout but within the session, frozen past the
 * session timeout, killed two at once (one restarted with a wiped state dir), and the broker restarted. The test's own
 * count of what it produced is the truth.
 *
 * At-least-once: no window's and no account's last value below the truth (count and sum); duplicates may raise them.
 * Exactly-once: every last value equal to the truth. The test prints its fault schedule and a results table.
 *
 * It starts its own broker (it restarts it), so `npm test` runs it after the other tests, alone.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { type Broker, startBroker } from '../../scripts/kafka/broker.ts'
import { createAdmin, type KafkaAdmin } from '../../src/kafka/admin.ts'
import { createPartitionReader, OFFSET_EARLIEST } from '../../src/kafka/partition-reader.ts'
import { createProducer } from '../../src/kafka/producer.ts'
import { AppInstance, killAll } from '../integration/runtime/instances.ts'
import { committedInput, createTopics, topicEnd } from '../integration/runtime/support.ts'
import { uniqueName } from '../support/kafka.ts'
import { waitFor } from '../support/wait.ts'
import { type Comparison, compare, LedgerTruth } from './ledger-truth.ts'

const module = fileURLToPath(new URL('./ledger-app.ts', import.meta.url))
const PARTITIONS = 6
const ACCOUNTS = 24
const SESSION_TIMEOUT_MS = 6_000
const TRANSACTION_TIMEOUT_MS = 2_500
/** Payments per batch and the pause between batches: about 300 a second. */
const BATCH = 8
const BATCH_EVERY_MS = 25

let broker: Broker
let brokerDir: string

before(async () => {
  brokerDir = mkdtempSync(join(tmpdir(), 'streamlane-chaos-broker-'))
  broker = await startBroker({ dir: brokerDir })
  process.env.KAFKA_BROKERS = broker.bootstrap
})

after(async () => {
  await broker?.stop()
  rmSync(brokerDir, { recursive: true, force: true })
})

type Guarantee = 'at_least_once' | 'exactly_once_v2'

interface Fault {
  atMs: number
  what: string
  act: () => Promise<void> | void
}

class Cluster {
  readonly appId = uniqueName('chaos-ledger')
  readonly topics = {
    payments: uniqueName('chaos-payments'),
    windows: uniqueName('chaos-window-totals'),
    balances: uniqueName('chaos-balances')
  }
  readonly dirs: string[] = []
  readonly slots: AppInstance[] = []
  /** Every process started, for the final cleanup. */
  readonly started: AppInstance[] = []
  readonly #guarantee: Guarantee

  constructor(guarantee: Guarantee) {
    this.#guarantee = guarantee
  }

  start(slot: number, { wipe = false } = {}): void {
    this.dirs[slot] ??= mkdtempSync(join(tmpdir(), `streamlane-chaos-${slot}-`))
    if (wipe) {
      rmSync(this.dirs[slot]!, { recursive: true, force: true })
      mkdirSync(this.dirs[slot]!)
    }
    const instance = new AppInstance(`ledger-${slot}`, module, {
      KAFKA_BROKERS: broker.bootstrap,
      STREAMLANE_APPLICATION_ID: this.appId,
      STREAMLANE_PROCESSING_GUARANTEE: this.#guarantee,
      STREAMLANE_STATE_DIR: this.dirs[slot]!,
      STREAMLANE_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      STREAMLANE_HEARTBEAT_INTERVAL_MS: '500',
      STREAMLANE_TRANSACTION_TIMEOUT_MS: String(TRANSACTION_TIMEOUT_MS),
      ...(this.#guarantee === 'at_least_once' ? { STREAMLANE_COMMIT_INTERVAL_MS: '1000' } : {}),
      PAYMENTS_TOPIC: this.topics.payments,
      WINDOW_TOTALS_TOPIC: this.topics.windows,
      BALANCES_TOPIC: this.topics.balances
    })
    this.slots[slot] = instance
    this.started.push(instance)
  }

  async kill(...slots: number[]): Promise<void> {
    for (const slot of slots) this.slots[slot]!.signal('SIGKILL')
    await Promise.all(slots.map((slot) => this.slots[slot]!.exited))
  }

  async cleanUp(): Promise<void> {
    await killAll(this.started)
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true })
  }
}

/** Produces payments until stopped, adding each to the truth once the broker acknowledged it. */
function producePayments(topic: string, truth: LedgerTruth): () => Promise<void> {
  const producer = createProducer({ brokers: [broker.bootstrap] })
  let stopped = false
  let n = 0
  const loop = (async () => {
    while (!stopped) {
      const payments = []
      for (let i = 0; i < BATCH; i++, n++) {
        payments.push({ account: `acct-${n % ACCOUNTS}`, amount: 1 + (n % 9), timestamp: Date.now() })
      }
      await producer.send(
        payments.map((p) => ({
          topic,
          key: Buffer.from(p.account),
          value: Buffer.from(String(p.amount)),
          timestamp: p.timestamp
        }))
      )
      for (const p of payments) truth.add(p)
      await delay(BATCH_EVERY_MS)
    }
  })()
  return async () => {
    stopped = true
    await loop
    await producer.close()
  }
}

/** The last value of every key of `topic`, read (read_committed) up to each partition's last stable offset. */
async function latestValues(admin: KafkaAdmin, topic: string): Promise<Map<string, string>> {
  const ends = (await admin.listOffsets([{ topic }], 'latest', { isolation: 'read_committed' })).get(topic)!
  const reader = createPartitionReader({ brokers: [broker.bootstrap], isolation: 'read_committed', copyBuffers: true })
  const latest = new Map<string, string>()
  try {
    await reader.assign([...ends.keys()].map((partition) => ({ topic, partition, offset: OFFSET_EARLIEST })))
    const done = () => [...ends].every(([p, end]) => (reader.position(topic, p) ?? 0n) >= end)
    const deadline = Date.now() + 60_000
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`reading ${topic} to its end timed out`)
      for (const r of await reader.poll(200)) latest.set(r.key!.toString(), r.value!.toString())
    }
  } finally {
    await reader.close()
  }
  return latest
}

function row(name: string, c: Comparison): string {
  return `| ${name.padEnd(16)} | ${String(c.keys).padStart(5)} | ${String(c.below.length).padStart(11)} | ${String(c.equal).padStart(5)} | ${String(c.above).padStart(18)} |`
}

async function chaosRun(guarantee: Guarantee): Promise<{ windows: Comparison; balances: Comparison }> {
  const cluster = new Cluster(guarantee)
  const admin = createAdmin({ brokers: [broker.bootstrap] })
  const truth = new LedgerTruth()
  let stopInput = async () => {}
  try {
    await createTopics(Object.values(cluster.topics).map((name) => ({ name, partitions: PARTITIONS })))
    for (const slot of [0, 1, 2]) cluster.start(slot)
    await waitFor('every instance running tasks', () => cluster.slots.every((i) => i.runningAssignment()), {
      timeoutMs: 60_000
    })
    stopInput = producePayments(cluster.topics.payments, truth)
    const session = SESSION_TIMEOUT_MS / 1000
    const faults: Fault[] = [
      { atMs: 5_000, what: 'SIGKILL instance 0', act: () => cluster.kill(0) },
      { atMs: 8_000, what: 'restart instance 0 with its state dir', act: () => cluster.start(0) },
      {
        atMs: 13_000,
        what: `SIGSTOP instance 1 for 9 s (past the ${session} s session timeout)`,
        act: () => cluster.slots[1]!.signal('SIGSTOP')
      },
      { atMs: 22_000, what: 'SIGCONT instance 1', act: () => cluster.slots[1]!.signal('SIGCONT') },
      { atMs: 27_000, what: 'SIGKILL instances 0 and 2 at once', act: () => cluster.kill(0, 2) },
      {
        atMs: 29_000,
        what: 'restart instance 0 with its state dir, instance 2 with a wiped one',
        act: () => {
          cluster.start(0)
          cluster.start(2, { wipe: true })
        }
      },
      { atMs: 36_000, what: 'restart the broker', act: () => broker.restart() },
      {
        atMs: 45_000,
        what: `SIGSTOP instance 2 for 4 s (past the ${TRANSACTION_TIMEOUT_MS / 1000} s transaction timeout, within the session)`,
        act: () => cluster.slots[2]!.signal('SIGSTOP')
      },
      { atMs: 49_000, what: 'SIGCONT instance 2', act: () => cluster.slots[2]!.signal('SIGCONT') },
      { atMs: 55_000, what: 'input stops', act: () => stopInput() }
    ]
    const started = Date.now()
    const schedule: string[] = []
    for (const fault of faults) {
      const wait = started + fault.atMs - Date.now()
      if (wait > 0) await delay(wait)
      schedule.push(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s  ${fault.what}`)
      await fault.act()
    }
    console.log(`\nchaos ${guarantee}: fault schedule (${truth.payments} payments produced)\n${schedule.join('\n')}`)

    // Settled: every payment processed and its offsets committed (outputs are acknowledged before that).
    const produced = await topicEnd(admin, cluster.topics.payments)
    assert.equal(produced, truth.payments, 'the truth counts every payment the broker holds')
    await waitFor(
      'every payment processed and committed',
      async () => (await committedInput(admin, cluster.appId, cluster.topics.payments)) === produced,
      { timeoutMs: 90_000, intervalMs: 250 }
    )
    const windows = compare(truth.windows, await latestValues(admin, cluster.topics.windows))
    const balances = compare(truth.balances, await latestValues(admin, cluster.topics.balances))
    console.log(
      [
        `chaos ${guarantee}: last value per key against the truth`,
        '| result           |  keys | below truth | equal | above (duplicates) |',
        '| ---------------- | ----: | ----------: | ----: | -----------------: |',
        row('window totals', windows),
        row('running totals', balances)
      ].join('\n')
    )
    const occurrences = (pattern: RegExp) =>
      cluster.started.reduce((sum, i) => sum + (i.log.match(pattern)?.length ?? 0), 0)
    console.log(
      `chaos ${guarantee}: writes held (ownership in doubt) ${occurrences(/"msg":"writes held/g)}, ` +
        `task sets lost ${occurrences(/"msg":"tasks lost; closed without writing"/g)}, ` +
        `producers fenced ${occurrences(/"msg":"producer fenced/g)}`
    )
    for (const instance of cluster.slots) {
      assert.equal(instance.child.exitCode, null, `${instance.name} exited:\n${instance.log.slice(-3000)}`)
      assert.doesNotMatch(instance.log, /processing stopped on an error/, `${instance.name} failed`)
    }
    return { windows, balances }
  } finally {
    await stopInput()
    await admin.close()
    await cluster.cleanUp()
  }
}

test('at-least-once through kills, freezes and a broker restart: no window and no total below the truth', async () => {
  const { windows, balances } = await chaosRun('at_least_once')
  assert.deepEqual(windows.below.slice(0, 10), [], 'windows whose last value is below the truth')
  assert.deepEqual(balances.below.slice(0, 10), [], 'running totals below the truth')
  assert.deepEqual(windows.unknown.slice(0, 10), [], 'windows the input never had')
})

test('exactly-once through kills, freezes and a broker restart: every window and every total equal to the truth', async () => {
  const { windows, balances } = await chaosRun('exactly_once_v2')
  assert.deepEqual(windows.below.slice(0, 10), [], 'windows whose last value is below the truth')
  assert.equal(windows.equal, windows.keys, 'every window exact')
  assert.deepEqual(windows.unknown.slice(0, 10), [])
  assert.deepEqual(balances.below.slice(0, 10), [])
  assert.equal(balances.equal, balances.keys, 'every running total exact')
})
