/**
 * The autoscaler's share-group path: the snapshot from a share group's backlog and members, the commit rate as the
 * acknowledgement rate, the policy capped by maxReplicas instead of the partition count, and the trigger key.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { defaultPolicy } from '../../../src/autoscale/keda/policy-adapter.ts'
import { parseTriggerMetadata } from '../../../src/autoscale/keda/trigger-metadata.ts'
import { parseLocalScalerOptions } from '../../../src/autoscale/local/options.ts'
import { parseScalingPolicyConfig } from '../../../src/autoscale/policy/config.ts'
import { createRateEstimator } from '../../../src/autoscale/policy/rate-window.ts'
import type { SignalAdmin } from '../../../src/autoscale/signals/admin-port.ts'
import { SignalCollector } from '../../../src/autoscale/signals/collector.ts'
import { ScalerInputError, UnknownGroupError } from '../../../src/autoscale/signals/errors.ts'
import { InstanceReportStore } from '../../../src/autoscale/signals/report-store.ts'
import { readShareGroupSnapshot, sharePartitionSignal } from '../../../src/autoscale/signals/share-snapshot.ts'
import { fakeAdmin, fakeCluster } from './signals-fake-admin.ts'

const brokers = ['k:9092']

/** A share group on topic `jobs` (2 partitions) whose backlog and members the test sets. */
function shareCluster(backlog: number[], members = 1) {
  const cluster = fakeCluster({ topics: { jobs: { start: [0, 0], end: [300, 300] } } })
  const share = {
    state: members > 0 ? 'Stable' : 'Empty',
    backlog,
    members: Array.from({ length: members }, (_, i) => ({
      memberId: `m${i}`,
      clientId: `jobs-worker-${i}-share`,
      clientHost: '/127.0.0.1',
      assignment: [{ topic: 'jobs', partitions: [i % 2] }]
    }))
  }
  const admin: SignalAdmin = {
    ...fakeAdmin(cluster),
    async describeShareGroup() {
      return { state: share.state, members: share.members }
    },
    async describeShareGroupBacklog(_groupId, topics) {
      const partitions = topics ?? [{ topic: 'jobs', partitions: [0, 1] }]
      return partitions.flatMap((t) =>
        t.partitions.map((p) => ({ topic: t.topic, partition: p, lag: BigInt(share.backlog[p] ?? -1) }))
      )
    }
  }
  return { cluster, share, admin }
}

test('share partition signal: the backlog is the lag, end - backlog the acknowledged position; unknown counts from the log start', () => {
  assert.deepEqual(sharePartitionSignal('t', 0, 10n, 100n, 30n), {
    topic: 't',
    partition: 0,
    logStartOffset: 10,
    endOffset: 100,
    committedOffset: 70,
    lag: 30,
    lagBasis: 'committed'
  })
  assert.equal(sharePartitionSignal('t', 0, 10n, 100n, -1n).lag, 90)
  assert.equal(sharePartitionSignal('t', 0, 10n, 100n, -1n).committedOffset, null)
  assert.equal(sharePartitionSignal('t', 0, 10n, 100n, 500n).lag, 90, 'never more than the log holds')
})

test('share snapshot: members from ShareGroupDescribe, lag from the backlog, marked as a share group', async () => {
  const { admin } = shareCluster([120, 80], 3)
  const snapshot = await readShareGroupSnapshot(admin, { groupId: 'jobs' }, brokers, () => 7)
  assert.equal(snapshot.groupType, 'share')
  assert.deepEqual(snapshot.topics, ['jobs'])
  assert.equal(snapshot.totalLag, 200)
  assert.equal(snapshot.members.length, 3)
  assert.equal(snapshot.members[2]!.clientId, 'jobs-worker-2-share')
  assert.equal(snapshot.state, 'Stable')
  assert.equal(snapshot.at, 7)
})

test('share snapshot: an unknown group is an error unless allowed with named topics (lag from the log start)', async () => {
  const { admin, share } = shareCluster([], 0)
  share.state = 'Unknown'
  await assert.rejects(readShareGroupSnapshot(admin, { groupId: 'jobs' }, brokers), UnknownGroupError)
  const snapshot = await readShareGroupSnapshot(
    admin,
    { groupId: 'jobs', topics: ['jobs'], allowUnknownGroup: true },
    brokers
  )
  assert.deepEqual([snapshot.unknownGroup, snapshot.totalLag, snapshot.noCommittedOffsets], [true, 600, true])
  const plain = fakeAdmin(fakeCluster())
  await assert.rejects(readShareGroupSnapshot(plain, { groupId: 'jobs' }, brokers), ScalerInputError)
})

test('collector: a share group commit rate is its acknowledgement rate', async () => {
  const { cluster, share, admin } = shareCluster([200, 200], 2)
  let now = 0
  const collector = new SignalCollector({
    adminFactory: () => admin,
    estimator: createRateEstimator,
    reports: new InstanceReportStore(),
    rateWindowMs: 4_000,
    now: () => now
  })
  const target = { brokers, groupId: 'jobs', groupType: 'share' as const }
  await collector.collect('local', target)
  now = 2_000
  // 40 records arrived, the backlog fell by 60: 100 acknowledged in 2 s.
  cluster.topics.jobs!.end = [320, 320]
  share.backlog = [170, 170]
  const signals = await collector.collect('local', target)
  assert.equal(signals.rates.arrivalRate, 20)
  assert.equal(signals.rates.commitRate, 50)
  assert.equal(signals.snapshot.totalLag, 340)
  await collector.close()
})

test('policy: a share group scales past its partition count up to maxReplicas, by plain ceil(need)', async () => {
  const { admin } = shareCluster([300, 300], 2)
  const snapshot = await readShareGroupSnapshot(admin, { groupId: 'jobs' }, brokers, () => 100_000)
  const targets = parseScalingPolicyConfig({ maxReplicas: 30, perReplicaRate: 1, lagDrainTargetSeconds: 30 })
  const signals = {
    snapshot,
    rates: { arrivalRate: 0, commitRate: 2, windowSeconds: 30 },
    instances: { reporting: 0, rebalanceInProgress: false, restorationInProgress: false }
  }
  const shared = defaultPolicy.decide(signals, targets, undefined, 2)
  assert.ok(shared.replicas > 2, `past the 2 partitions: ${shared.replicas} (${shared.reason})`)
  assert.ok(shared.replicas <= 30)
  const consumer = defaultPolicy.decide(
    { ...signals, snapshot: { ...snapshot, groupType: undefined } },
    targets,
    undefined,
    2
  )
  assert.equal(consumer.replicas, 2, 'a consumer group on the same topic stays at its partition count')
  const capped = defaultPolicy.decide(
    signals,
    parseScalingPolicyConfig({ maxReplicas: 5, perReplicaRate: 1 }),
    undefined,
    2
  )
  assert.equal(capped.replicas, 5)
  assert.match(capped.reason, /share-group replicas/)
})

test('trigger metadata and local options take the group type', () => {
  const base = { consumerGroup: 'jobs' }
  assert.equal(parseTriggerMetadata(base, 'metadata', brokers).groupType, 'consumer')
  assert.equal(parseTriggerMetadata({ ...base, groupType: 'share' }, 'metadata', brokers).groupType, 'share')
  assert.throws(
    () => parseTriggerMetadata({ ...base, groupType: 'queue' }, 'metadata', brokers),
    /metadata\.groupType: "queue" is not consumer or share/
  )
  const local = parseLocalScalerOptions({ groupId: 'jobs', brokers, command: 'node', groupType: 'share' })
  assert.equal(local.groupType, 'share')
  assert.equal(parseLocalScalerOptions({ groupId: 'jobs', brokers, command: 'node' }).groupType, 'consumer')
})
