import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRateEstimator } from '../../../src/autoscale/policy/rate-window.ts'
import { SignalCollector } from '../../../src/autoscale/signals/collector.ts'
import {
  KafkaUnavailableError,
  NoTopicsError,
  ScalerInputError,
  UnknownGroupError,
  UnknownTopicError
} from '../../../src/autoscale/signals/errors.ts'
import { parseInstanceReport } from '../../../src/autoscale/signals/instance-report.ts'
import { GroupRateTracker } from '../../../src/autoscale/signals/rate-tracker.ts'
import { InstanceReportStore, summarizeReports } from '../../../src/autoscale/signals/report-store.ts'
import { partitionSignal, readGroupSnapshot } from '../../../src/autoscale/signals/snapshot.ts'
import type { GroupSnapshot } from '../../../src/autoscale/signals/types.ts'
import { fakeAdmin, fakeCluster } from './signals-fake-admin.ts'

const brokers = ['b1:9092']

test('partition lag: committed, never committed, commit behind the log start, commit past the end', () => {
  assert.deepEqual(partitionSignal('t', 0, 0n, 10n, 4n), {
    topic: 't',
    partition: 0,
    logStartOffset: 0,
    endOffset: 10,
    committedOffset: 4,
    lag: 6,
    lagBasis: 'committed'
  })
  const never = partitionSignal('t', 1, 100n, 130n, undefined)
  assert.equal(never.lag, 30, 'from the log start, not from 0 (KEDA #7936)')
  assert.equal(never.committedOffset, null)
  assert.equal(never.lagBasis, 'no-commit')
  const deleted = partitionSignal('t', 2, 100n, 130n, 40n)
  assert.equal(deleted.lag, 30)
  assert.equal(deleted.lagBasis, 'committed-before-log-start')
  assert.equal(partitionSignal('t', 3, 0n, 10n, 12n).lag, 0)
})

test('snapshot: topics inferred from commits and assignments, members listed, totals summed', async () => {
  const cluster = fakeCluster({
    topics: { a: { start: [0, 0], end: [10, 5] }, b: { start: [0], end: [7] } },
    groups: {
      g: {
        state: 'Stable',
        members: [{ memberId: 'm1', assignment: [{ topic: 'b', partitions: [0] }] }],
        commits: { a: { 0: 8, 1: 5 } }
      }
    }
  })
  const snap = await readGroupSnapshot(fakeAdmin(cluster), { groupId: 'g' }, brokers, () => 1000)
  assert.deepEqual(snap.topics, ['a', 'b'])
  assert.deepEqual(
    snap.partitions.map((p) => [p.topic, p.partition, p.lag, p.lagBasis]),
    [
      ['a', 0, 2, 'committed'],
      ['a', 1, 0, 'committed'],
      ['b', 0, 7, 'no-commit']
    ]
  )
  assert.equal(snap.totalLag, 9)
  assert.equal(snap.members.length, 1)
  assert.equal(snap.noCommittedOffsets, false)
  assert.equal(snap.at, 1000)
})

test('snapshot: an unknown group is an error unless allowUnknownGroup with topics', async () => {
  for (const groupNotFoundThrows of [false, true]) {
    const cluster = fakeCluster({ topics: { t: { start: [3], end: [10] } }, groupNotFoundThrows })
    await assert.rejects(readGroupSnapshot(fakeAdmin(cluster), { groupId: 'typo' }, brokers), (e: unknown) => {
      assert.ok(e instanceof UnknownGroupError)
      assert.equal(e.code, 'STREAMLANE_SCALER_GROUP_UNKNOWN')
      assert.match(e.message, /"typo".*b1:9092/)
      return true
    })
    const snap = await readGroupSnapshot(
      fakeAdmin(cluster),
      { groupId: 'new-app', topics: ['t'], allowUnknownGroup: true },
      brokers
    )
    assert.equal(snap.unknownGroup, true)
    assert.equal(snap.noCommittedOffsets, true)
    assert.equal(snap.totalLag, 7)
  }
})

test('snapshot: a known group with nothing to measure, an unknown topic, an unreachable cluster', async () => {
  const cluster = fakeCluster({ topics: {}, groups: { g: { state: 'Empty', commits: { gone: {} } } } })
  // State Empty with members gone and no commits is still "known" (the coordinator has it): name the topics.
  cluster.groups.g = { state: 'Stable', members: [{ memberId: 'm', assignment: [] }] }
  await assert.rejects(readGroupSnapshot(fakeAdmin(cluster), { groupId: 'g' }, brokers), NoTopicsError)

  await assert.rejects(
    readGroupSnapshot(fakeAdmin(cluster), { groupId: 'g', topics: ['nope'] }, brokers),
    (e: unknown) => {
      assert.ok(e instanceof UnknownTopicError)
      assert.deepEqual(e.topics, ['nope'])
      assert.equal(e.kind, 'not-found')
      return true
    }
  )

  cluster.failWith = new Error('connect ECONNREFUSED')
  await assert.rejects(readGroupSnapshot(fakeAdmin(cluster), { groupId: 'g' }, brokers), (e: unknown) => {
    assert.ok(e instanceof KafkaUnavailableError)
    assert.equal(e.kind, 'unavailable')
    assert.match(e.message, /"g".*b1:9092.*ECONNREFUSED/)
    return true
  })
})

function snapshotAt(at: number, partitions: [end: number, committed: number | null][]): GroupSnapshot {
  return {
    groupId: 'g',
    at,
    state: 'Stable',
    topics: ['t'],
    members: [],
    tasks: { count: partitions.length, basis: 'partitions' },
    totalLag: 0,
    noCommittedOffsets: false,
    unknownGroup: false,
    partitions: partitions.map(([end, committed], partition) => ({
      topic: 't',
      partition,
      logStartOffset: 0,
      endOffset: end,
      committedOffset: committed,
      lag: end - (committed ?? 0),
      lagBasis: committed === null ? 'no-commit' : 'committed'
    }))
  }
}

test('rates: end-offset and commit growth over the window; first commits and recreated topics are not traffic', () => {
  const tracker = new GroupRateTracker(10_000, createRateEstimator)
  assert.equal(
    tracker.observe(
      snapshotAt(0, [
        [100, null],
        [0, 0]
      ])
    ).arrivalRate,
    null
  )
  // +50 and +50 arrived in 5 s; the first commit on partition 0 (null -> 90) is a baseline, not 90 processed.
  let rates = tracker.observe(
    snapshotAt(5_000, [
      [150, 90],
      [50, 20]
    ])
  )
  assert.equal(rates.arrivalRate, 20)
  assert.equal(rates.commitRate, 4)
  // Partition 1 recreated (end 50 -> 10): the drop is ignored, partition 0's +50 still counts. Over the whole
  // 10 s window: 150 arrived, 70 committed (20 on p1, then 50 on p0).
  rates = tracker.observe(
    snapshotAt(10_000, [
      [200, 140],
      [10, 0]
    ])
  )
  assert.equal(rates.arrivalRate, 15)
  assert.equal(rates.commitRate, 7)
  assert.equal(rates.windowSeconds, 10)
})

test('instance reports: validation names the field; stale reports drop out; summary aggregates', () => {
  assert.throws(
    () => parseInstanceReport({ groupId: 'g', instanceId: 'p', trueProcessingRate: -1 }, 0),
    (e: unknown) => e instanceof ScalerInputError && e.field === 'report.trueProcessingRate'
  )
  const store = new InstanceReportStore({ ttlMs: 1_000 })
  store.put(parseInstanceReport({ groupId: 'g', instanceId: 'a', trueProcessingRate: 100, standbyReplicas: 1 }, 0))
  store.put(
    parseInstanceReport(
      {
        groupId: 'g',
        instanceId: 'b',
        trueProcessingRate: 300,
        rebalanceInProgress: true,
        warmups: [{ task: '0_1', progress: 0.5 }]
      },
      900
    )
  )
  assert.deepEqual(store.summarize('g', 950), {
    reporting: 2,
    rebalanceInProgress: true,
    restorationInProgress: false,
    trueRateTotal: 400,
    trueRatePerInstance: 200,
    standbyReplicas: 1,
    warmupProgress: 0.5
  })
  assert.equal(store.summarize('g', 1_500).reporting, 1, 'a is stale')
  assert.deepEqual(summarizeReports([]), { reporting: 0, rebalanceInProgress: false, restorationInProgress: false })
})

test('collector: history per key, and a client whose cluster became unreachable is replaced', async () => {
  const cluster = fakeCluster({
    topics: { t: { start: [0], end: [100] } },
    groups: { g: { state: 'Stable', commits: { t: { 0: 40 } } } }
  })
  let now = 0
  let created = 0
  const collector = new SignalCollector({
    adminFactory: () => {
      created++
      return fakeAdmin(cluster)
    },
    estimator: createRateEstimator,
    reports: new InstanceReportStore(),
    rateWindowMs: 4_000,
    now: () => now
  })
  const target = { brokers, groupId: 'g' }
  await collector.collect('ns/a', target)
  now = 2_000
  cluster.topics.t!.end = [140]
  cluster.groups.g!.commits = { t: { 0: 60 } }
  const signals = await collector.collect('ns/a', target)
  assert.equal(signals.rates.arrivalRate, 20)
  assert.equal(signals.rates.commitRate, 10)
  assert.equal(signals.snapshot.totalLag, 80)
  assert.equal((await collector.collect('ns/other', target)).rates.arrivalRate, null, 'another key has no history')
  assert.equal(created, 1, 'one client per cluster')

  cluster.failWith = new Error('connect ECONNREFUSED')
  await assert.rejects(collector.collect('ns/a', target), KafkaUnavailableError)
  cluster.failWith = undefined
  await collector.collect('ns/a', target)
  assert.equal(created, 2, 'a fresh client after the failure')
  await collector.close()
})

test('records in flight bound the rate: records / age of the oldest, averaged over the instances with some', () => {
  const at = 1_000
  const summary = summarizeReports([
    parseInstanceReport({ groupId: 'g', instanceId: 'a', inFlightRecords: 12, oldestInFlightMs: 6_000 }, at),
    parseInstanceReport({ groupId: 'g', instanceId: 'b', inFlightRecords: 1, oldestInFlightMs: 1_000 }, at),
    parseInstanceReport({ groupId: 'g', instanceId: 'c', inFlightRecords: 0, oldestInFlightMs: 0 }, at)
  ])
  assert.equal(summary.inFlightRateBound, 1.5, '(12 / 6 s + 1 / 1 s) / 2; c has nothing in flight')
  assert.equal(summarizeReports([]).inFlightRateBound, undefined)
})
