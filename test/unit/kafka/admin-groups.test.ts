import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeConsumerProtocolAssignment, encodeConsumerProtocolSubscription } from '@platformatic/kafka'
import { describeConsumerGroup, describeMember } from '../../../src/kafka/admin-groups.ts'

const raw = (memberMetadata: Buffer, memberAssignment: Buffer, groupInstanceId: string | null = 'pod-1') => ({
  memberId: 'm-1',
  groupInstanceId,
  clientId: 'client',
  clientHost: '/10.0.0.1',
  memberMetadata,
  memberAssignment
})

test('a consumer-protocol member is decoded with both userData blobs and its sorted assignment', () => {
  const subscription = encodeConsumerProtocolSubscription({
    version: 3,
    topics: ['a', 'b'],
    userData: Buffer.from('process-7'),
    ownedPartitions: [],
    generationId: 4,
    rackId: null
  })
  const assignment = encodeConsumerProtocolAssignment({
    version: 3,
    assignedPartitions: [
      { topic: 'b', partitions: [2, 0] },
      { topic: 'a', partitions: [1] }
    ],
    userData: Buffer.from('tasks: 0_1 active')
  })
  const member = describeMember('consumer', raw(subscription, assignment))
  assert.deepEqual(member, {
    memberId: 'm-1',
    groupInstanceId: 'pod-1',
    clientId: 'client',
    host: '/10.0.0.1',
    assignment: [
      { topic: 'a', partitions: [1] },
      { topic: 'b', partitions: [0, 2] }
    ],
    subscriptionUserData: Buffer.from('process-7'),
    assignmentUserData: Buffer.from('tasks: 0_1 active')
  })
})

test('members of other protocols, members not yet assigned, and garbage are described without structs', () => {
  const connect = describeMember('connect', raw(Buffer.from('anything'), Buffer.from('else'), null))
  assert.deepEqual(connect, { memberId: 'm-1', clientId: 'client', host: '/10.0.0.1', assignment: [] })
  const joining = describeMember('consumer', raw(Buffer.alloc(0), Buffer.alloc(0)))
  assert.deepEqual(joining.assignment, [])
  assert.equal(joining.assignmentUserData, undefined)
  const garbage = describeMember('consumer', raw(Buffer.from([0, 9, 0xff]), Buffer.from([1])))
  assert.deepEqual(garbage.assignment, [])
})

test('a KIP-848 consumer group (ConsumerGroupDescribe) reads like a classic one: state, assignor, members, partitions', () => {
  const assignment = (partitions: number[]) => ({
    topicPartitions: [{ topicId: 'id-in', topicName: 'in', partitions }]
  })
  const member = (memberId: string, instanceId: string | null, partitions: number[]) => ({
    memberId,
    instanceId,
    rackId: null,
    memberEpoch: 3,
    clientId: `client-${memberId}`,
    clientHost: '/10.0.0.2',
    subscribedTopicNames: ['in'],
    subscribedTopicRegex: null,
    assignment: assignment(partitions),
    targetAssignment: assignment(partitions)
  })
  const described = describeConsumerGroup({
    errorCode: 0,
    errorMessage: null,
    groupId: 'g',
    groupState: 'Stable',
    groupEpoch: 3,
    assignmentEpoch: 3,
    assignorName: 'uniform',
    members: [member('a', 'pod-0', [3, 1]), member('b', null, [0, 2])],
    authorizedOperations: 0
  })
  assert.deepEqual(described, {
    groupId: 'g',
    state: 'Stable',
    protocolType: 'consumer',
    protocol: 'uniform',
    members: [
      {
        memberId: 'a',
        clientId: 'client-a',
        host: '/10.0.0.2',
        assignment: [{ topic: 'in', partitions: [1, 3] }],
        groupInstanceId: 'pod-0'
      },
      { memberId: 'b', clientId: 'client-b', host: '/10.0.0.2', assignment: [{ topic: 'in', partitions: [0, 2] }] }
    ]
  })
})
