import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  AssignmentErrorCode,
  createLeaderAssignor,
  decodeAssignmentInfo,
  deriveTasks,
  encodeAssignmentInfo,
  encodeSubscriptionInfo,
  resolveSubtopologyPartitions,
  type TaskIdText
} from '../../../src/assignment/index.ts'
import { defaultPolicy } from '../../../src/autoscale/keda/policy-adapter.ts'
import { ScalerService } from '../../../src/autoscale/keda/scaler-service.ts'
import { parseScalingPolicyConfig } from '../../../src/autoscale/policy/config.ts'
import { decideReplicas } from '../../../src/autoscale/policy/decide.ts'
import { createRateEstimator } from '../../../src/autoscale/policy/rate-window.ts'
import type { ScalingSignals } from '../../../src/autoscale/policy/signals.ts'
import { SignalCollector } from '../../../src/autoscale/signals/collector.ts'
import { InstanceReportStore } from '../../../src/autoscale/signals/report-store.ts'
import { readGroupSnapshot } from '../../../src/autoscale/signals/snapshot.ts'
import { taskCountOf, tasksFromMembers } from '../../../src/autoscale/signals/tasks.ts'
import { isInternalInputTopicOf } from '../../../src/internal-topic-names.ts'
import { type FakeCluster, fakeAdmin, fakeCluster } from './signals-fake-admin.ts'

/*
 * The replica cap of a multi-topic app is its number of active tasks: the sum over its sub-topologies of each one's
 * task count (= the partitions of its co-partitioned source topics). Not the sum of every source topic's partitions
 * (a merge of two 6-partition topics is 6 tasks), not the largest sub-topology (the assignor spreads all tasks by
 * count, so two independent 6-task sub-topologies keep 12 members busy).
 */

const APP = 'app'
const REPARTITION = `${APP}-by-customer-repartition`

interface Sub {
  id: number
  topics: string[]
  stateful?: boolean
}

type FakeMember = NonNullable<FakeCluster['groups'][string]['members']>[number]

/** Members of a Streamlane group as the real leader assignor leaves them: partitions plus both userData. */
function streamlaneMembers(subs: Sub[], counts: Record<string, number>, memberCount: number): FakeMember[] {
  const assign = createLeaderAssignor<Map<string, number>>({
    computeTasks: (metadata) =>
      deriveTasks(
        resolveSubtopologyPartitions(
          subs.map((s) => ({ subtopologyId: s.id, sourceTopics: s.topics, stateful: s.stateful ?? false })),
          (topic) => metadata.get(topic)
        )
      )
  })
  const members = Array.from({ length: memberCount }, (_, i) => ({
    memberId: `m${i}`,
    userData: encodeSubscriptionInfo({ processId: `p${i}` })
  }))
  const result = assign(members, new Map(Object.entries(counts)))
  return members.map((m) => {
    const assignment = result.get(m.memberId)!
    return {
      memberId: m.memberId,
      assignment: assignment.partitions,
      assignmentUserData: assignment.userData,
      subscriptionUserData: m.userData
    }
  })
}

/** Topics with `per` records of lag on each partition, all committed at 0 by the group. */
function clusterFor(counts: Record<string, number>, members: FakeMember[], per = 10_000): FakeCluster {
  const topics: FakeCluster['topics'] = {}
  const commits: Record<string, Record<number, number>> = {}
  for (const [topic, n] of Object.entries(counts)) {
    topics[topic] = { start: Array(n).fill(0), end: Array(n).fill(per) }
    commits[topic] = Object.fromEntries(Array.from({ length: n }, (_, p) => [p, 0]))
  }
  return fakeCluster({ topics, groups: { [APP]: { state: 'Stable', protocol: 'streamlane', members, commits } } })
}

function serviceFor(cluster: FakeCluster, now: () => number) {
  const collector = new SignalCollector({
    adminFactory: () => fakeAdmin(cluster),
    estimator: createRateEstimator,
    reports: new InstanceReportStore(),
    now
  })
  return new ScalerService({ collector, policy: defaultPolicy, reuseMs: 0, now, defaultBrokers: ['k:1'] })
}

/** A load far beyond any cap: one record per second per replica against 10000 records of lag per partition. */
const flooded = { bootstrapServers: 'k:1', consumerGroup: APP, perReplicaRate: '1', maxReplicas: '100' }

test('co-partitioned topics read by one sub-topology (merge): the cap is N tasks, not the 2N partitions', async () => {
  const counts = { orders: 6, refunds: 6 }
  const members = streamlaneMembers([{ id: 0, topics: ['orders', 'refunds'] }], counts, 2)
  const service = serviceFor(clusterFor(counts, members), () => 10_000)
  const e = await service.evaluate({ namespace: 'ns', name: 'merge', metadata: flooded })
  assert.equal(e.signals.snapshot.partitions.length, 12)
  assert.deepEqual(e.signals.snapshot.tasks, { count: 6, basis: 'assignment', subtopologies: { 0: 6 } })
  assert.equal(e.replicas, 6)
  assert.equal(e.metricValue, 6)
  assert.match(e.reason, /capped at 6 tasks/)
  await service.close()
})

test('independent sub-topologies: the cap is the total of their tasks, and the assignor gives each member one', async () => {
  const counts = { clicks: 6, views: 4 }
  const subs = [
    { id: 0, topics: ['clicks'] },
    { id: 1, topics: ['views'] }
  ]
  const service = serviceFor(clusterFor(counts, streamlaneMembers(subs, counts, 3)), () => 10_000)
  const e = await service.evaluate({ namespace: 'ns', name: 'independent', metadata: flooded })
  assert.deepEqual(e.signals.snapshot.tasks, { count: 10, basis: 'assignment', subtopologies: { 0: 6, 1: 4 } })
  // Not the 6 of the largest sub-topology: members 7..10 would each run a task of their own.
  assert.equal(e.replicas, 10)
  assert.match(e.reason, /capped at 10 tasks/)
  await service.close()

  // Why the total: src/assignment balances the count of tasks per member, whatever their sub-topology.
  const active = (n: number) =>
    streamlaneMembers(subs, counts, n).map((m) => decodeAssignmentInfo(m.assignmentUserData!).activeTasks.length)
  assert.deepEqual(active(10), Array(10).fill(1), '10 members: one task each, all busy')
  assert.deepEqual(
    active(11).sort((a, b) => a - b),
    [0, ...Array(10).fill(1)],
    'an 11th member runs nothing'
  )
  assert.deepEqual(
    active(6).sort((a, b) => a - b),
    [1, 1, 2, 2, 2, 2],
    '6 members (the largest sub-topology) leave four of them with two tasks'
  )
})

test('a repartition topic: its sub-topology has a task per partition, and its lag is measured with explicit topics', async () => {
  // Sub-topology 0 merges orders and refunds (4 partitions each) and writes the repartition topic (8 partitions);
  // sub-topology 1 reads it: 4 + 8 = 12 tasks, where the partitions sum to 16 and the largest sub-topology has 8.
  const counts = { orders: 4, refunds: 4, [REPARTITION]: 8 }
  const subs = [
    { id: 0, topics: ['orders', 'refunds'] },
    { id: 1, topics: [REPARTITION], stateful: true }
  ]
  const members = streamlaneMembers(subs, counts, 2)
  const cluster = clusterFor(counts, members)
  const snap = await readGroupSnapshot(fakeAdmin(cluster), { groupId: APP, topics: ['orders', 'refunds'] }, ['k:1'])
  assert.deepEqual(snap.topics, [REPARTITION, 'orders', 'refunds'], 'the group’s repartition topic is measured too')
  assert.equal(snap.partitions.length, 16)
  assert.equal(snap.totalLag, 16 * 10_000)
  assert.deepEqual(snap.tasks, { count: 12, basis: 'assignment', subtopologies: { 0: 4, 1: 8 } })

  const service = serviceFor(cluster, () => 10_000)
  const e = await service.evaluate({
    namespace: 'ns',
    name: 'repartition',
    metadata: { ...flooded, topics: 'orders,refunds' }
  })
  assert.equal(e.replicas, 12)
  assert.match(e.reason, /capped at 12 tasks/)
  await service.close()
})

test('a foreign-key join: its subscription and response topics are measured with explicit topics, changelogs not', async () => {
  // Sub-topology 0 reads orders and the response topic, 1 reads customers and the subscription topic (3 each).
  const subscription = `${APP}-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic`
  const response = `${APP}-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000012-topic`
  const changelog = `${APP}-customers-STATE-STORE-0000000003-changelog`
  const counts = { orders: 3, customers: 3, [subscription]: 3, [response]: 3 }
  const subs = [
    { id: 0, topics: ['orders', response], stateful: true },
    { id: 1, topics: ['customers', subscription], stateful: true }
  ]
  const cluster = clusterFor({ ...counts, [changelog]: 3 }, streamlaneMembers(subs, counts, 2))
  const snap = await readGroupSnapshot(fakeAdmin(cluster), { groupId: APP, topics: ['orders', 'customers'] }, ['k:1'])
  assert.deepEqual(snap.topics, [subscription, response, 'customers', 'orders'].sort())
  assert.equal(snap.totalLag, 12 * 10_000)
  assert.deepEqual(snap.tasks, { count: 6, basis: 'assignment', subtopologies: { 0: 3, 1: 3 } })
})

test('partition-aware rounding counts in tasks: 5.5 replicas of work on 12 tasks is 6, not the 8 of 16 partitions', () => {
  const config = parseScalingPolicyConfig({ scaleInStabilizationSeconds: 0, hpaTolerance: 0, perReplicaRate: 100 })
  const base: ScalingSignals = {
    atMs: 0,
    partitions: Array.from({ length: 16 }, (_, p) => ({
      topic: p < 8 ? REPARTITION : 'orders',
      partition: p % 8,
      endOffset: 10,
      committedOffset: 10,
      lag: 0
    })),
    arrivalRate: 550,
    commitRate: 550,
    currentReplicas: 2
  }
  const tasks = { partitionCount: 12, partitionCountUnit: 'tasks' as const }
  assert.equal(decideReplicas({ ...base, ...tasks }, config).replicas, 6)
  assert.equal(decideReplicas(base, config).replicas, 8, 'the old cap: every partition its own unit of work')
  // 4.5 replicas of work: 5 would leave two members with 3 of the 12 tasks, no faster than 4.
  const rounded = decideReplicas({ ...base, ...tasks, arrivalRate: 450, commitRate: 450 }, config)
  assert.equal(rounded.replicas, 6)
  assert.match(rounded.reason, /\(12 tasks: at most 2 per replica\)/)
})

test('the tasks last seen stand in while the group rebalances or has no members, until another app is Stable', async () => {
  const counts = { orders: 6, refunds: 6 }
  const members = streamlaneMembers([{ id: 0, topics: ['orders', 'refunds'] }], counts, 2)
  const cluster = clusterFor(counts, members)
  let now = 10_000
  const service = serviceFor(cluster, () => now)
  const request = { namespace: 'ns', name: 'memory', metadata: flooded }
  assert.equal((await service.evaluate(request)).signals.snapshot.tasks.basis, 'assignment')

  // The coordinator shows neither the protocol nor the assignments outside Stable.
  const group = cluster.groups[APP]!
  group.state = 'PreparingRebalance'
  group.protocol = ''
  group.members = members.map((m) => ({ memberId: m.memberId, assignment: [] }))
  now += 10_000
  let e = await service.evaluate(request)
  assert.deepEqual(e.signals.snapshot.tasks, { count: 6, basis: 'last-assignment', subtopologies: { 0: 6 } })
  assert.ok(e.replicas <= 6)

  // Scaled to zero: woken to the tasks, not to the 12 partitions.
  group.state = 'Empty'
  group.members = []
  now += 10_000
  e = await service.evaluate(request)
  assert.equal(e.currentReplicas, 0, e.reason)
  assert.equal(e.signals.snapshot.tasks.basis, 'last-assignment')
  assert.equal(e.replicas, 6, e.reason)

  // A plain consumer group under the same id, Stable: every partition is assigned on its own again.
  group.state = 'Stable'
  group.protocol = 'cooperative-sticky'
  group.members = [{ memberId: 'c0', assignment: [{ topic: 'orders', partitions: [0, 1, 2, 3, 4, 5] }] }]
  now += 10_000
  e = await service.evaluate(request)
  assert.deepEqual(e.signals.snapshot.tasks, { count: 12, basis: 'partitions' })
  group.state = 'Empty'
  group.members = []
  now += 10_000
  e = await service.evaluate(request)
  assert.equal(e.signals.snapshot.tasks.basis, 'partitions', 'forgotten')
  assert.equal(e.replicas, 12)
  assert.match(e.reason, /12 partitions|-> 12/)
  await service.close()
})

test('tasks from members: a handed-over task is in its old owner’s subscription; nothing readable means partitions', () => {
  const userData = (active: TaskIdText[], errorCode: number = AssignmentErrorCode.NONE) =>
    encodeAssignmentInfo({ activeTasks: active, errorCode })
  const owned = (ownedActive: TaskIdText[]) => encodeSubscriptionInfo({ processId: 'p', ownedActive })
  // 0_3 (stateless) is withheld from everyone this generation while m0 revokes it; it was m0's when m0 joined.
  const handover = [
    { assignmentUserData: userData(['0_0', '0_1']), subscriptionUserData: owned(['0_0', '0_1', '0_3']) },
    { assignmentUserData: userData(['0_2', '1_0']), subscriptionUserData: owned([]) }
  ]
  assert.deepEqual(taskCountOf(tasksFromMembers('streamlane', handover), 99), {
    count: 5,
    basis: 'assignment',
    subtopologies: { 0: 4, 1: 1 }
  })
  // Not Streamlane's assignor, no userData, an assignment with an error code, bytes of another format.
  assert.equal(tasksFromMembers('range', handover), null)
  assert.equal(tasksFromMembers('streamlane', [{}, {}]), null)
  assert.equal(tasksFromMembers('streamlane', [{ assignmentUserData: userData([], 3) }]), null)
  assert.equal(tasksFromMembers('streamlane', [{ assignmentUserData: Buffer.from('not ours') }]), null)
  assert.deepEqual(taskCountOf(null, 12), { count: 12, basis: 'partitions' })
})

test('internal input topics are recognised by the app id (= the group id)', () => {
  assert.equal(isInternalInputTopicOf('app', 'app-by-customer-repartition'), true)
  assert.equal(isInternalInputTopicOf('app', 'app-repartition'), false)
  assert.equal(isInternalInputTopicOf('app', 'other-by-customer-repartition'), false)
  assert.equal(isInternalInputTopicOf('app', 'app-counts-changelog'), false)
  assert.equal(isInternalInputTopicOf('app', 'app-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000012-topic'), true)
  assert.equal(isInternalInputTopicOf('app', 'app-by-region-subscription-registration-topic'), true)
  assert.equal(isInternalInputTopicOf('app', 'other-by-region-subscription-registration-topic'), false)
})
