/**
 * A member closing while its JoinGroup is in flight (a SIGTERM during a cooperative follow-up rejoin, in the
 * slow-consumer test): the broker may complete that join with the member in a new generation before the commit at
 * close goes out. The commit with the old generation is then refused (ILLEGAL_GENERATION) and every record the
 * member processed since its last commit would be processed again by the next owner. The member lets the join round
 * finish instead of cutting it off, and commits with the generation it brought.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopic, describeGroup } from './fixtures/group-admin.ts'
import { allLabels, converged, labels, ownerView, type RecordedMember, startMember } from './fixtures/group-harness.ts'

const brokers = testBrokers()
const started: RecordedMember[] = []

after(async () => {
  await Promise.allSettled(started.map((r) => r.member.close()))
})

test('a member closing during its join round commits with the generation the broker moved to', async () => {
  const topic = uniqueName('closing-join')
  const groupId = uniqueName('group')
  await createTopic(brokers, topic, 2)
  const base = { brokers, groupId, topics: [topic], sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 15_000 }
  let commitAtClose: Promise<string> | undefined
  let generationBefore = -1
  // b hears of a rebalance only at its next heartbeat, seconds later: a's JoinGroup waits at the broker until then.
  const b = startMember('b', { ...base, heartbeatIntervalMs: 2_500 })
  started.push(b)
  // A rejoin with the same subscription would be answered at once, without a rebalance: a's userData changes.
  let joinsOfA = 0
  const userData = () => Buffer.from(`join ${joinsOfA++}`)
  const a = startMember('a', { ...base, heartbeatIntervalMs: 200, userData }, async (partitions, context) => {
    if (context.reason !== 'close') return
    // The commit goes out once the broker has completed the join that a's JoinGroup is part of.
    commitAtClose = (async () => {
      await waitFor('b to join the next generation', () => b.member.generationId > generationBefore, {
        timeoutMs: 20_000
      })
      const offsets = partitions.flatMap(({ topic, partitions: ps }) => ps.map((partition) => ({ topic, partition })))
      await a.member.commitOffsets(offsets.map((o) => ({ ...o, offset: 7n })))
      return 'committed'
    })().catch((error: Error) => `refused: ${error.message}`)
    await commitAtClose
  })
  started.push(a)
  await waitFor('a and b to own a partition each', () => converged([a, b].map(ownerView), allLabels(topic, 2)))
  generationBefore = a.member.generationId
  const ownedByA = labels(a.member.assignment?.partitions)
  assert.equal(ownedByA.length, 1)

  a.member.requestRejoin('the test asks')
  await waitFor('the broker to wait for b to rejoin', async () => {
    return (await describeGroup(brokers, groupId)).state === 'PreparingRebalance'
  })
  await a.member.close()

  assert.equal(await commitAtClose, 'committed')
  const [committed] = await b.member.fetchOffsets([{ topic, partitions: [Number(ownedByA[0]!.split('-').at(-1))] }])
  assert.equal(committed?.offset, 7n, 'the offsets committed at close are the group committed offsets')
  await waitFor('b to own every partition once a left', () => converged([ownerView(b)], allLabels(topic, 2)), {
    timeoutMs: 20_000
  })
})
