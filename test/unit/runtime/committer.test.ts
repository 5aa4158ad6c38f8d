import assert from 'node:assert/strict'
import { test } from 'node:test'
import { OffsetCommitRejectedError, ProducerFencedError } from '../../../src/kafka/errors.ts'
import { RebalanceInProgressError } from '../../../src/kafka/group/index.ts'
import type { KafkaProducer } from '../../../src/kafka/producer.ts'
import { Committer, type CommitterOptions } from '../../../src/runtime/committer.ts'
import type { OffsetToCommit } from '../../../src/runtime/task-manager.ts'

const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as CommitterOptions['logger']
const OFFSETS: OffsetToCommit[] = [{ topic: 'in', partition: 0, offset: 5n }]

/** A committer over fakes that record, in order, every call that matters to the commit protocols. */
function setup(
  exactlyOnce: boolean,
  failures: { sendOffsets?: Error; commitOffsets?: Error; abort?: Error } = {},
  doubt: { reason?: string; rebalancing?: boolean; generationAfterJoin?: number } = {}
) {
  const calls: string[] = []
  let inTransaction = exactlyOnce
  const producer = {
    get inTransaction() {
      return inTransaction
    },
    async beginTransaction() {
      calls.push('begin')
      inTransaction = true
    },
    async sendOffsetsToTransaction(request: { generationId: number; offsets: OffsetToCommit[] }) {
      calls.push(`sendOffsetsToTransaction generation ${request.generationId}`)
      if (failures.sendOffsets && request.generationId === 3) throw failures.sendOffsets
    },
    async commitTransaction() {
      calls.push('commitTransaction')
      inTransaction = false
    },
    async abortTransaction() {
      calls.push('abortTransaction')
      if (failures.abort) throw failures.abort
      inTransaction = false
    }
  } as unknown as KafkaProducer
  const committer = new Committer({
    applicationId: 'app',
    commitIntervalMs: 100,
    exactlyOnce,
    tasks: {
      taskIds: ['0_0', '0_1'],
      processedTotal: 7,
      offsetsToCommit: () => OFFSETS,
      commitState: () => calls.push('commitState'),
      markCommitted: () => calls.push('markCommitted')
    },
    collector: {
      flush: async () => {
        calls.push('flush')
      },
      acknowledgedOffset: () => undefined,
      discardUnsent: async () => {
        calls.push('discardUnsent')
      }
    },
    group: {
      generation: { generationId: 3, memberId: 'm', groupInstanceId: null, leaderId: 'm', isLeader: true },
      rebalanceInProgress: doubt.rebalancing ?? false,
      commitOffsets: async () => {
        calls.push('commitOffsets')
        if (failures.commitOffsets) throw failures.commitOffsets
      },
      requestRejoin: (reason: string) => calls.push(`rejoin: ${reason}`),
      generationAfterJoin: async (_refusal, refused) => {
        const next = doubt.generationAfterJoin
        calls.push(`generationAfterJoin ${refused.generationId} -> ${next}`)
        return next === undefined ? undefined : { generationId: next, memberId: 'm', groupInstanceId: null }
      }
    },
    producer: () => producer,
    replaceProducer: async () => {
      calls.push('replaceProducer')
    },
    taskLifecycle: {
      drainedPosition: () => undefined,
      restartFromCommitted: async (keep) => {
        calls.push(`restart ${['0_0', '0_1'].filter(keep).join(',')}`)
      },
      closeAllUncommitted: async () => {
        calls.push('closeAllUncommitted')
      },
      closeAfterFailure: async (ids) => {
        calls.push(`closeAfterFailure ${ids.join(',')}`)
      }
    },
    stateDir: {
      refreshLock: () => calls.push('refreshLock'),
      cleanRemovedTasks: () => []
    },
    guard: {
      doubt: () => doubt.reason,
      confirmed: (at) => calls.push(`confirmed ${typeof at}`),
      gone: (reason) => {
        doubt.reason = reason
        calls.push('gone')
      }
    },
    logger: silent
  })
  return { committer, calls }
}

test('at-least-once: outputs acknowledged, then the stores, then the input offsets', async () => {
  const { committer, calls } = setup(false)
  await committer.commit()
  assert.deepEqual(calls, ['flush', 'commitState', 'refreshLock', 'commitOffsets', 'confirmed number', 'markCommitted'])
  assert.equal(committer.committedRecords, 7)
  assert.equal(committer.commitDue, false)
})

test('at-least-once: an offset commit refused by a rebalance is deferred, not fatal', async () => {
  const { committer, calls } = setup(false, { commitOffsets: new RebalanceInProgressError('app', 'commit') })
  await committer.commit()
  assert.deepEqual(calls.slice(-1), ['commitOffsets'])
  assert.equal(committer.committedRecords, 0)
})

test('exactly-once: offsets join the transaction with the generation; the stores commit only after it', async () => {
  const { committer, calls } = setup(true)
  await committer.commit()
  assert.deepEqual(calls, [
    'refreshLock',
    'flush',
    'sendOffsetsToTransaction generation 3',
    'commitTransaction',
    'commitState',
    'markCommitted'
  ])
  assert.equal(committer.committedRecords, 7)
})

test('exactly-once: a refused offset commit aborts, restarts every task from committed offsets and rejoins', async () => {
  const refused = new OffsetCommitRejectedError('app', 3, 'm', 'ILLEGAL_GENERATION')
  const { committer, calls } = setup(true, { sendOffsets: refused })
  await committer.commit()
  assert.deepEqual(calls.slice(2), [
    'sendOffsetsToTransaction generation 3',
    'generationAfterJoin 3 -> undefined',
    'abortTransaction',
    'restart 0_0,0_1',
    'rejoin: the offset commit was refused'
  ])
  assert.equal(committer.committedRecords, 0)
})

test('exactly-once, closing: offsets refused while the join round was in flight go again with its generation', async () => {
  const refused = new OffsetCommitRejectedError('app', 3, 'm', 'ILLEGAL_GENERATION')
  const { committer, calls } = setup(true, { sendOffsets: refused }, { generationAfterJoin: 4 })
  await committer.commit()
  assert.deepEqual(calls.slice(2), [
    'sendOffsetsToTransaction generation 3',
    'generationAfterJoin 3 -> 4',
    'sendOffsetsToTransaction generation 4',
    'commitTransaction',
    'commitState',
    'markCommitted'
  ])
  assert.equal(committer.committedRecords, 7)
})

test('exactly-once: lost tasks abort the transaction and only the others restart', async () => {
  const { committer, calls } = setup(true)
  await committer.dropLost(new Set(['0_1']))
  assert.deepEqual(calls, ['abortTransaction', 'restart 0_0'])
})

test('exactly-once: lost tasks whose transaction the broker already ended get a new producer, not a crash', async () => {
  // What a member frozen past its session and transaction timeouts meets: the broker aborted its transaction.
  const { committer, calls } = setup(true, { abort: new Error('abortTransaction failed: INVALID_TXN_STATE') })
  await committer.dropLost(new Set(['0_1']))
  assert.deepEqual(calls, ['abortTransaction', 'replaceProducer', 'restart 0_0'])
})

test('a fencing closes every task uncommitted, replaces the producer and rejoins', async () => {
  const { committer, calls } = setup(true)
  await committer.recoverFromFencing(new ProducerFencedError('app-1'))
  assert.deepEqual(calls, ['closeAllUncommitted', 'replaceProducer', 'rejoin: the producer was fenced'])
  assert.equal(committer.fencings, 1)
})

for (const exactlyOnce of [false, true]) {
  test(`${exactlyOnce ? 'exactly-once' : 'at-least-once'}: while ownership is in doubt nothing is flushed or committed`, async () => {
    const { committer, calls } = setup(exactlyOnce, {}, { reason: 'no heartbeat acknowledged for 7000 ms' })
    await committer.commit()
    assert.deepEqual(calls, [], 'no flush (caches stay unwritten), no offsets, no transaction')
    assert.equal(committer.commitDue, false, 'tried again one interval later')
  })
}

test('at-least-once: an offset commit refused for an unknown member holds every write and rejoins', async () => {
  const refused = new OffsetCommitRejectedError('app', 3, 'm', 'UNKNOWN_MEMBER_ID')
  const { committer, calls } = setup(false, { commitOffsets: refused })
  await committer.commit()
  assert.deepEqual(calls.slice(-3), ['commitOffsets', 'gone', 'rejoin: the offset commit was refused'])
  calls.length = 0
  await committer.commit()
  assert.deepEqual(calls, [], 'the next commit writes nothing')
})

test('at-least-once: lost tasks drop what they produced and was not sent, instead of flushing it', async () => {
  const { committer, calls } = setup(false)
  await committer.dropLost(new Set(['0_1']))
  assert.deepEqual(calls, ['discardUnsent'])
})

test('at-least-once: an old generation refused while the member rejoins is deferred, not a loss', async () => {
  const refused = new OffsetCommitRejectedError('app', 3, 'm', 'ILLEGAL_GENERATION')
  const { committer, calls } = setup(false, { commitOffsets: refused }, { rebalancing: true })
  await committer.commit()
  assert.deepEqual(calls.slice(-1), ['commitOffsets'], 'no doubt raised: the rebalance says what the member owns')
})

test('exactly-once: an old generation refused while the member rejoins aborts without asking for another rejoin', async () => {
  const refused = new OffsetCommitRejectedError('app', 3, 'm', 'ILLEGAL_GENERATION')
  const { committer, calls } = setup(true, { sendOffsets: refused }, { rebalancing: true })
  await committer.commit()
  assert.deepEqual(calls.slice(2), [
    'sendOffsetsToTransaction generation 3',
    'generationAfterJoin 3 -> undefined',
    'abortTransaction',
    'restart 0_0,0_1'
  ])
  assert.equal(committer.committedRecords, 0)
})
