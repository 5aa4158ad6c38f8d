/**
 * The lags a member reports in its subscription: 0 for its active tasks, its standbys' reader lags, and for other
 * task directories on its disk the changelog end minus the checkpoint file's offset (the whole partition without one).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pino } from 'pino'
import { decodeAssignmentInfo, encodeSubscriptionInfo } from '../../../src/assignment/index.ts'
import { resolveConfig } from '../../../src/runtime/config.ts'
import { streamlaneAssignor } from '../../../src/runtime/group-protocol.ts'
import {
  changelogEndOffsetSums,
  changelogPartitionsOf,
  lagFromCheckpoints,
  localTaskLags
} from '../../../src/runtime/task-lags.ts'
import { Serdes } from '../../../src/serde/index.ts'
import { keyValueStoreBuilder } from '../../../src/state/index.ts'
import { planTopology, Topology } from '../../../src/topology/index.ts'

const logger = pino({ level: 'silent' })
const plan = planTopology(
  new Topology()
    .addSource('input', 'in', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .addProcessor('noop', () => ({ process() {} }), 'input')
    .addStateStore(keyValueStoreBuilder({ name: 'a', keySerde: Serdes.string(), valueSerde: Serdes.string() }), 'noop')
    .addStateStore(keyValueStoreBuilder({ name: 'b', keySerde: Serdes.string(), valueSerde: Serdes.string() }), 'noop'),
  'app'
)

test('a task has one changelog partition per logged store, at its partition', () => {
  assert.deepEqual(changelogPartitionsOf(plan, '0_3'), [
    { topic: 'app-a-changelog', partition: 3 },
    { topic: 'app-b-changelog', partition: 3 }
  ])
  assert.equal(changelogPartitionsOf(plan, '7_0'), undefined, 'no such sub-topology')
  assert.equal(changelogPartitionsOf(plan, 'junk'), undefined)
})

test('lag from checkpoints sums end minus checkpoint; a partition without a checkpoint counts whole', () => {
  const changelogs = changelogPartitionsOf(plan, '0_1')!
  const ends = new Map([
    ['app-a-changelog', 100n],
    ['app-b-changelog', 40n]
  ])
  const end = (topic: string) => ends.get(topic)
  assert.equal(lagFromCheckpoints(changelogs, [{ topic: 'app-a-changelog', partition: 1, offset: 90n }], end), 50n)
  assert.equal(
    lagFromCheckpoints(
      changelogs,
      [
        { topic: 'app-a-changelog', partition: 1, offset: 100n },
        { topic: 'app-b-changelog', partition: 1, offset: 40n }
      ],
      end
    ),
    0n
  )
  assert.equal(
    lagFromCheckpoints(changelogs, [], () => undefined),
    undefined,
    'end unknown'
  )
})

test('local task lags: actives 0, standbys as their reader sees them, other directories from checkpoints', async () => {
  const dirs = ['0_0', '0_1', '0_2', '0_3'].map((taskId) => ({
    taskId,
    path: `/x/${taskId}`,
    checkpoints:
      taskId === '0_3'
        ? [
            { topic: 'app-a-changelog', partition: 3, offset: 10n },
            { topic: 'app-b-changelog', partition: 3, offset: 5n }
          ]
        : [],
    lastModifiedMs: 0,
    inUse: false
  }))
  const asked: unknown[] = []
  const lags = await localTaskLags({
    plan,
    stateDir: { listTaskDirs: () => dirs },
    admin: {
      async listOffsets(topics) {
        asked.push(topics)
        return new Map(topics.map(({ topic }) => [topic, new Map([[3, 12n]])]))
      }
    },
    activeTaskIds: ['0_0'],
    standbyLags: new Map([
      ['0_1', 7n],
      ['0_2', undefined]
    ]),
    logger
  })
  // 0_2's standby has not fetched yet and its partition's end is unknown here: left out, not guessed.
  assert.deepEqual(
    lags,
    new Map([
      ['0_0', 0n],
      ['0_1', 7n],
      ['0_3', 9n]
    ])
  )
  assert.equal(asked.length, 1, 'one ListOffsets for every directory')
})

test("the leader reads each task's changelog end offset sum: the lag of a member without local state", async () => {
  const admin = {
    async listOffsets(topics: { topic: string; partitions: number[] }[]) {
      return new Map(
        topics.map(({ topic, partitions }) => [
          topic,
          new Map(partitions.map((p) => [p, topic === 'app-a-changelog' ? BigInt(p * 10) : 3n]))
        ])
      )
    }
  }
  const sums = await changelogEndOffsetSums({ plan, admin, taskIds: ['0_0', '0_2', '7_0'], logger })
  assert.deepEqual(
    sums,
    new Map([
      ['0_0', 3n],
      ['0_2', 23n]
    ])
  )
  const failing = { listOffsets: async () => Promise.reject(new Error('broker down')) }
  assert.equal(await changelogEndOffsetSums({ plan, admin: failing, taskIds: ['0_0'], logger }), undefined)
})

test('empty changelogs: the leader hands tasks over to a member without state at once, no probing round', async () => {
  const config = resolveConfig({ applicationId: 'app', bootstrapServers: ['localhost:9092'] })
  const asked: string[][] = []
  const assign = streamlaneAssignor({
    sourceTopics: new Map([[0, ['in']]]),
    statefulSubtopologies: new Set([0]),
    config,
    changelogEndOffsets: async (taskIds) => {
      asked.push(taskIds)
      return new Map(taskIds.map((id) => [id, 0n]))
    }
  })
  const subscription = (processId: string, owned: string[]) => ({
    groupInstanceId: null,
    topics: ['in'],
    ownedPartitions: [],
    generationId: -1,
    userData: encodeSubscriptionInfo({
      processId,
      ownedActive: owned as never[],
      taskLags: new Map(owned.map((id) => [id as never, 0n]))
    })
  })
  // a ran every task alone; b just started, with no state at all.
  const all = ['0_0', '0_1', '0_2', '0_3']
  const assignments = await assign(
    [
      { memberId: 'a', ...subscription('pa', all), generationId: 1 },
      { memberId: 'b', ...subscription('pb', []) }
    ],
    new Map([['in', 4]]),
    { groupId: 'app', generationId: 2, leaderId: 'a' }
  )
  assert.deepEqual(asked, [all])
  const a = decodeAssignmentInfo(assignments.get('a')!.userData)
  const b = decodeAssignmentInfo(assignments.get('b')!.userData)
  // The cooperative handover starts at once: a gives up two tasks now and rejoins as soon as they are committed;
  // b prepares them meanwhile. Without the end offsets b's copies would count as never caught up: a would keep all
  // four and b would warm two up until the probing rebalance (10 minutes by default).
  assert.equal(a.activeTasks.length, 2)
  assert.deepEqual([...a.activeTasks, ...b.warmupTasks].sort(), all)
  assert.equal(a.nextRebalanceDelayMs, 0)
})
