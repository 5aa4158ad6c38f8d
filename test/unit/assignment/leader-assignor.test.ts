import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  AssignmentErrorCode,
  createLeaderAssignor,
  decodeAssignmentInfo,
  deriveTasks,
  encodeSubscriptionInfo,
  type GroupMemberSubscription,
  type LeaderAssignmentOutcome,
  resolveSubtopologyPartitions,
  type TaskIdText
} from '../../../src/assignment/index.ts'
import { ConfigError } from '../../../src/errors.ts'
import type { Assignor } from '../../../src/kafka/group/types.ts'

/** What the Kafka layer hands the leader: here just topic -> partition count. */
type Metadata = Map<string, number>

const topology = [{ subtopologyId: 0, sourceTopics: ['orders', 'payments'], stateful: true }]
const computeTasks = (metadata: Metadata) =>
  deriveTasks(resolveSubtopologyPartitions(topology, (topic) => metadata.get(topic)))

function subscriptions(
  entries: Record<string, Parameters<typeof encodeSubscriptionInfo>[0]>
): GroupMemberSubscription[] {
  return Object.entries(entries).map(([memberId, info]) => ({ memberId, userData: encodeSubscriptionInfo(info) }))
}

test('decodes subscriptions, assigns, and encodes one assignment userData per member', () => {
  const outcomes: LeaderAssignmentOutcome[] = []
  const assign = createLeaderAssignor<Metadata>({
    computeTasks,
    config: { numStandbyReplicas: 1 },
    onAssignment: (outcome) => outcomes.push(outcome)
  })
  const members = subscriptions({
    m1: { processId: 'p1', endpoint: 'a:1', ownedActive: ['0_0'] as TaskIdText[] },
    m2: { processId: 'p2', endpoint: 'b:1' }
  })
  const result = assign(
    members,
    new Map([
      ['orders', 2],
      ['payments', 2]
    ]),
    { leaderId: 'm1' }
  )
  assert.deepEqual([...result.keys()], ['m1', 'm2'])
  const m1 = result.get('m1')!
  assert.deepEqual(m1.partitions, [
    { topic: 'orders', partitions: [0] },
    { topic: 'payments', partitions: [0] }
  ])
  const info = decodeAssignmentInfo(m1.userData)
  assert.equal(info.errorCode, AssignmentErrorCode.NONE)
  assert.deepEqual(info.activeTasks, ['0_0'])
  assert.deepEqual(info.standbyTasks, ['0_1'])
  assert.equal(info.acceptableRecoveryLag, 10_000n)
  assert.deepEqual(info.partitionsByHost.get('b:1'), [
    { topic: 'orders', partitions: [1] },
    { topic: 'payments', partitions: [1] }
  ])
  assert.equal(outcomes.length, 1)
  assert.equal(outcomes[0]!.result!.perMember.size, 2)
})

test('co-partition mismatch: every member gets the error code and no partitions', () => {
  const outcomes: LeaderAssignmentOutcome[] = []
  const assign = createLeaderAssignor<Metadata>({ computeTasks, onAssignment: (o) => outcomes.push(o) })
  const result = assign(
    subscriptions({ m1: { processId: 'p1' }, m2: { processId: 'p2' } }),
    new Map([
      ['orders', 2],
      ['payments', 3]
    ])
  )
  for (const assignment of result.values()) {
    assert.deepEqual(assignment.partitions, [])
    assert.equal(decodeAssignmentInfo(assignment.userData).errorCode, AssignmentErrorCode.COPARTITION_MISMATCH)
  }
  assert.equal(outcomes[0]!.error!.code, 'STREAMLANE_COPARTITION_MISMATCH')
})

test('a missing source topic gets its own error code', () => {
  const assign = createLeaderAssignor<Metadata>({ computeTasks })
  const result = assign(subscriptions({ m1: { processId: 'p1' } }), new Map([['orders', 2]]))
  assert.equal(decodeAssignmentInfo(result.get('m1')!.userData).errorCode, AssignmentErrorCode.SOURCE_TOPIC_MISSING)
})

test('a member whose userData cannot be read gets an error code and no tasks; the others carry on', () => {
  const outcomes: LeaderAssignmentOutcome[] = []
  const assign = createLeaderAssignor<Metadata>({ computeTasks, onAssignment: (o) => outcomes.push(o) })
  const newer = encodeSubscriptionInfo({ processId: 'p3' })
  newer[1] = 5
  newer[2] = 5
  const members = subscriptions({ m1: { processId: 'p1' } })
  members.push({ memberId: 'm2', userData: Buffer.from('not streamlane') })
  members.push({ memberId: 'm3', userData: newer })
  members.push({ memberId: 'm4' })
  const result = assign(
    members,
    new Map([
      ['orders', 4],
      ['payments', 4]
    ])
  )
  assert.equal(decodeAssignmentInfo(result.get('m1')!.userData).activeTasks.length, 4)
  assert.equal(decodeAssignmentInfo(result.get('m2')!.userData).errorCode, AssignmentErrorCode.ASSIGNMENT_FAILED)
  assert.equal(decodeAssignmentInfo(result.get('m3')!.userData).errorCode, AssignmentErrorCode.INCOMPATIBLE_VERSION)
  assert.equal(decodeAssignmentInfo(result.get('m4')!.userData).errorCode, AssignmentErrorCode.ASSIGNMENT_FAILED)
  assert.deepEqual([...outcomes[0]!.undecodable.keys()], ['m2', 'm3', 'm4'])
  assert.match(outcomes[0]!.undecodable.get('m3')!.message, /version 5/)
})

test('unexpected errors from computeTasks are not swallowed; bad config fails at creation', () => {
  const assign = createLeaderAssignor<Metadata>({
    computeTasks: () => {
      throw new TypeError('bug')
    }
  })
  assert.throws(() => assign(subscriptions({ m1: { processId: 'p1' } }), new Map()), TypeError)
  assert.throws(() => createLeaderAssignor({ computeTasks, config: { numStandbyReplicas: -1 } }), ConfigError)
})

test('plugs into the Kafka layer: a zombie claim loses to the newer protocol generation', () => {
  const partitionCounts = new Map([
    ['orders', 1],
    ['payments', 1]
  ])
  // Compile-time contract with src/kafka/group: the leader assignor IS its Assignor for topic -> partition counts.
  const assign: Assignor = createLeaderAssignor<Map<string, number>>({ computeTasks })
  const claim = { ownedActive: ['0_0'] as TaskIdText[], taskLags: new Map<TaskIdText, bigint>([['0_0', 0n]]) }
  const members = [
    { memberId: 'zombie', userData: encodeSubscriptionInfo({ processId: 'p1', ...claim }), generationId: 3 },
    { memberId: 'current', userData: encodeSubscriptionInfo({ processId: 'p2', ...claim }), generationId: 5 }
  ]
  const result = createLeaderAssignor<Map<string, number>>({ computeTasks })(members, partitionCounts, {
    leaderId: 'zombie'
  })
  assert.deepEqual(decodeAssignmentInfo(result.get('current')!.userData).activeTasks, ['0_0'])
  assert.deepEqual(decodeAssignmentInfo(result.get('zombie')!.userData).activeTasks, [])
  assert.equal(typeof assign, 'function')
})
