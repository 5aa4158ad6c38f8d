/**
 * Standby tasks on a fake changelog reader and a real state directory: they read from their checkpoint (from the
 * beginning the first time), apply changelog records to their stores, report their lag, keep their checkpoint when
 * closed so that a standby opened again (or the active task that replaces it) resumes there; a member holding
 * warm-ups asks for a rebalance once they are all within acceptableRecoveryLag, once.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, test } from 'node:test'
import { pino } from 'pino'
import type { AssignmentInfo } from '../../../src/assignment/index.ts'
import type { KafkaPartitionReader } from '../../../src/kafka/partition-reader.ts'
import { OFFSET_EARLIEST } from '../../../src/kafka/partition-reader.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import { StandbyLifecycle } from '../../../src/runtime/standby-lifecycle.ts'
import { StandbyTasks } from '../../../src/runtime/standby-tasks.ts'
import { Serdes } from '../../../src/serde/index.ts'
import { checkpointPath, readCheckpointFile } from '../../../src/state/checkpoint-file.ts'
import { keyValueStoreBuilder, StateDirectory } from '../../../src/state/index.ts'
import { planTopology, Topology } from '../../../src/topology/index.ts'

const APP = 'standby-unit'
const CHANGELOG = `${APP}-counts-changelog`
const logger = pino({ level: 'silent' })

/** Changelog partition p holds `records[p]` records at offsets 0.. with keys k0, k1, ... */
function fakeReader(records: number[]) {
  const positions = new Map<number, bigint>()
  const assigned: { partition: number; offset: bigint }[] = []
  const reader = {
    assigned,
    async assign(list: { topic: string; partition: number; offset: bigint }[]) {
      for (const { partition, offset } of list) {
        assigned.push({ partition, offset })
        positions.set(partition, offset === OFFSET_EARLIEST ? 0n : offset)
      }
    },
    unassign(list: { topic: string; partition: number }[]) {
      for (const { partition } of list) positions.delete(partition)
    },
    position: (_topic: string, partition: number) => positions.get(partition),
    endOffset: (_topic: string, partition: number) =>
      positions.has(partition) ? BigInt(records[partition]!) : undefined,
    /** Up to 10 records per partition per poll. */
    async poll(): Promise<ConsumedRecord[]> {
      const out: ConsumedRecord[] = []
      for (const [partition, position] of positions) {
        const end = BigInt(records[partition]!)
        let offset = position
        for (; offset < end && offset < position + 10n; offset++) {
          out.push({
            topic: CHANGELOG,
            partition,
            offset,
            timestamp: 0,
            key: Buffer.from(`k${offset}`),
            value: Buffer.from(String(offset)),
            headers: []
          })
        }
        positions.set(partition, offset)
      }
      return out
    }
  }
  return reader
}

function plan() {
  const topology = new Topology()
    .addSource('input', 'in', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .addProcessor('noop', () => ({ process() {} }), 'input')
    .addStateStore(
      keyValueStoreBuilder({ name: 'counts', keySerde: Serdes.string(), valueSerde: Serdes.string() }),
      'noop'
    )
  return planTopology(topology, APP)
}

let dir: string
let stateDir: StateDirectory
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'standby-unit-'))
  stateDir = StateDirectory.open({ stateDir: dir, applicationId: APP, logger, verifyOnOpen: 'never' })
})
afterEach(() => {
  stateDir.close()
  rmSync(dir, { recursive: true, force: true })
})

function standbysOn(reader: ReturnType<typeof fakeReader>): StandbyTasks {
  return new StandbyTasks({
    applicationId: APP,
    plan: plan(),
    stateDir,
    reader: reader as unknown as KafkaPartitionReader,
    commitIntervalMs: 100,
    logger
  })
}

test('a standby applies its changelog, reports its lag, and resumes from its checkpoint', async () => {
  const reader = fakeReader([25, 7])
  const standbys = standbysOn(reader)
  await standbys.assign(new Set(['0_0']), new Set(['0_1']))
  assert.deepEqual(reader.assigned, [
    { partition: 0, offset: OFFSET_EARLIEST },
    { partition: 1, offset: OFFSET_EARLIEST }
  ])
  assert.deepEqual(standbys.counts(), { standby: 1, warmup: 1 })
  assert.equal(await standbys.step(), 17)
  assert.deepEqual(
    standbys.lags(),
    new Map([
      ['0_0', 15n],
      ['0_1', 0n]
    ])
  )
  while ((await standbys.step()) > 0);
  assert.equal(standbys.appliedTotal, 32)
  assert.deepEqual(
    standbys.lags(),
    new Map([
      ['0_0', 0n],
      ['0_1', 0n]
    ])
  )

  await standbys.assign(new Set(['0_1']), new Set())
  assert.deepEqual(standbys.taskIds, ['0_1'])
  // Closed cleanly: the checkpoint file says how far the copy got, for lag reports and a later owner.
  const checkpoint = readCheckpointFile(checkpointPath(stateDir.taskDir('0_0')))
  assert.deepEqual(checkpoint, [{ topic: CHANGELOG, partition: 0, offset: 25n }])

  reader.assigned.length = 0
  await standbys.assign(new Set(['0_0', '0_1']), new Set())
  assert.deepEqual(reader.assigned, [{ partition: 0, offset: 25n }], 'resumes at its checkpoint, not the beginning')
  await standbys.closeAll()
})

test('a warm-up holder rejoins once, when every warm-up is within acceptableRecoveryLag', async () => {
  const reader = fakeReader([40, 5])
  const rejoins: string[] = []
  const lifecycle = new StandbyLifecycle({
    standbys: standbysOn(reader),
    group: { requestRejoin: (reason: string) => rejoins.push(reason) },
    logger
  })
  const info: AssignmentInfo = {
    version: 1,
    errorCode: 0,
    activeTasks: [],
    standbyTasks: ['0_1'],
    warmupTasks: ['0_0'],
    partitionsByHost: new Map(),
    standbyPartitionsByHost: new Map(),
    followupRebalance: true,
    nextRebalanceDelayMs: -1,
    acceptableRecoveryLag: 15n
  } as AssignmentInfo
  await lifecycle.apply(info, [])
  await lifecycle.step()
  assert.deepEqual(rejoins, [], 'lag 30 > 15')
  assert.deepEqual(lifecycle.warmupProgress(), [{ task: '0_0', progress: 0 }], 'measured from the first lag seen')
  await lifecycle.step()
  assert.ok(Math.abs(lifecycle.warmupProgress()[0]!.progress - 1 / 3) < 1e-9, 'lag 30 -> 20')
  assert.deepEqual(rejoins, [], 'lag 20 > 15')
  await lifecycle.step()
  assert.deepEqual(rejoins, ['warm-up tasks caught up'], 'lag 10 <= 15')
  while ((await lifecycle.step()) > 0);
  assert.equal(rejoins.length, 1)
  assert.equal(lifecycle.probingRebalances, 1)

  // The promotion: the standby closes before the active task opens its directory.
  await lifecycle.beforeActiveStart({ ...info, activeTasks: ['0_0'] })
  assert.deepEqual(lifecycle.standbys.taskIds, ['0_1'])
  await lifecycle.lost()
  assert.deepEqual(lifecycle.standbys.taskIds, [])
  await lifecycle.close()
})

test('a standby that cannot open (its directory still leased) is skipped, not fatal', async () => {
  const reader = fakeReader([5, 5])
  const standbys = standbysOn(reader)
  const lease = stateDir.lockTask('0_0')
  const { opened } = await standbys.assign(new Set(['0_0', '0_1']), new Set())
  assert.deepEqual(opened, ['0_1'])
  lease.release()
  await standbys.closeAll()
})

test('the standbys of an assignment open in the background: standby work waits for them, a failure surfaces at the next step', async () => {
  const gate = Promise.withResolvers<void>()
  const reader = fakeReader([20, 20])
  const realAssign = reader.assign.bind(reader)
  // The standby reader's positioning hangs until the gate opens: the assignment is still being applied.
  reader.assign = async (list) => {
    await gate.promise
    await realAssign(list)
  }
  const lifecycle = new StandbyLifecycle({ standbys: standbysOn(reader), group: { requestRejoin() {} }, logger })
  const info = {
    version: 1,
    errorCode: 0,
    activeTasks: [],
    standbyTasks: ['0_0', '0_1'],
    warmupTasks: [],
    partitionsByHost: new Map(),
    standbyPartitionsByHost: new Map(),
    followupRebalance: false,
    nextRebalanceDelayMs: -1,
    acceptableRecoveryLag: 15n
  } as unknown as AssignmentInfo
  const applied = lifecycle.apply(info, [])
  assert.equal(await lifecycle.step(), 0, 'nothing applied while the standbys open')
  gate.resolve()
  await applied
  assert.ok((await lifecycle.step()) > 0, 'standby work once they are open')
  await lifecycle.close()

  const failing = new StandbyLifecycle({
    standbys: {
      assign: () => Promise.reject(new Error('cannot position the standby reader')),
      closeAll: async () => {}
    } as unknown as StandbyTasks,
    group: { requestRejoin() {} },
    logger
  })
  await failing.apply(info, [])
  await assert.rejects(failing.step(), /cannot position the standby reader/)
  await failing.close()
})
