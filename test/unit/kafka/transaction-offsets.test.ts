/**
 * A transaction's offsets go out in two writes (AddOffsetsToTxn, then TxnOffsetCommit), each after a coordinator
 * lookup: a process paused during a lookup wakes up with the next write still to send. `beforeWrite` is asked right
 * before each write, so a producer whose owner may have lost its tasks sends neither.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { kGetApi, kGetConnection } from '@platformatic/kafka'
import { WritesHeldError } from '../../../src/kafka/errors.ts'
import type { AnyClient } from '../../../src/kafka/library.ts'
import { CoordinatorCache, sendTransactionOffsets } from '../../../src/kafka/transaction-offsets.ts'

/**
 * A client whose raw APIs record what was sent (lookups in `lookups`); FindCoordinator answers with the one broker.
 * `failOnce` names an API whose next call fails with NOT_COORDINATOR.
 */
function fakeClient(sent: string[], lookups: string[] = [], failOnce = new Set<string>()): AnyClient {
  const api = (name: string) => ({
    version: 4,
    async: async (_connection: unknown, ...args: unknown[]) => {
      if (name === 'FindCoordinator') {
        const [, keys] = args as [number, string[]]
        lookups.push(...keys)
        return { coordinators: keys.map((key) => ({ key, host: 'localhost', port: 9092 })) }
      }
      if (failOnce.delete(name))
        throw Object.assign(new Error('not the coordinator'), { code: 'PLT_KFK_PROTOCOL', apiId: 'NOT_COORDINATOR' })
      sent.push(name)
      return {}
    }
  })
  return {
    metadata: async () => ({ brokers: new Map([[1, { host: 'localhost', port: 9092 }]]) }),
    [kGetApi]: (name: string, callback: (error: unknown, api: unknown) => void) => callback(null, api(name)),
    [kGetConnection]: (_broker: unknown, callback: (error: unknown, connection: unknown) => void) => callback(null, {})
  } as unknown as AnyClient
}

const request = {
  groupId: 'app',
  generationId: 3,
  memberId: 'm',
  offsets: [{ topic: 'in', partition: 0, offset: 5n }]
}
const identity = { transactionalId: 'app-1', producerId: 7n, producerEpoch: 0 }

test('both writes go out while nothing holds them', async () => {
  const sent: string[] = []
  await sendTransactionOffsets(fakeClient(sent), identity, request, Date.now() + 5_000, 10, () => {})
  assert.deepEqual(sent, ['AddOffsetsToTxn', 'TxnOffsetCommit'])
})

test('a hold that starts during the first write stops the second one, and is not retried', async () => {
  const sent: string[] = []
  let held = false
  const beforeWrite = () => {
    if (held) throw new WritesHeldError('the offsets are')
    // The pause comes after AddOffsetsToTxn went out: on waking, the member is in doubt.
    held = true
  }
  await assert.rejects(
    sendTransactionOffsets(fakeClient(sent), identity, request, Date.now() + 5_000, 10, beforeWrite),
    WritesHeldError
  )
  assert.deepEqual(sent, ['AddOffsetsToTxn'])
})

test('held from the start: nothing is sent', async () => {
  const sent: string[] = []
  const beforeWrite = () => {
    throw new WritesHeldError('the offsets are')
  }
  await assert.rejects(
    sendTransactionOffsets(fakeClient(sent), identity, request, Date.now() + 5_000, 10, beforeWrite),
    WritesHeldError
  )
  assert.deepEqual(sent, [])
})

test('coordinators are looked up once per producer, and again after a request to one failed', async () => {
  const sent: string[] = []
  const lookups: string[] = []
  const failOnce = new Set<string>()
  const client = fakeClient(sent, lookups, failOnce)
  const coordinators = new CoordinatorCache()
  const commit = () => sendTransactionOffsets(client, identity, request, Date.now() + 5_000, 10, () => {}, coordinators)
  await commit()
  await commit()
  assert.deepEqual(lookups, ['app-1', 'app'])
  assert.deepEqual(sent, ['AddOffsetsToTxn', 'TxnOffsetCommit', 'AddOffsetsToTxn', 'TxnOffsetCommit'])
  failOnce.add('TxnOffsetCommit')
  await commit()
  assert.deepEqual(lookups, ['app-1', 'app', 'app'])
  assert.equal(sent.length, 6)
})
