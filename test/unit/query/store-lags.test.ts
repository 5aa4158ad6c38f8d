import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allLocalStorePartitionLags, type QuerySource } from '../../../src/query/index.ts'
import type { StateStore } from '../../../src/topology/index.ts'

const store = {} as StateStore

test('allLocalStorePartitionLags: active partitions at 0, restoring ones unknown, standby copies with their lag', () => {
  const source: QuerySource = {
    localHost: 'h:1',
    hostMap: () => undefined,
    partitioning: (name) => (name === 'counts' ? { topic: 't', partitions: 4, kind: undefined } : undefined),
    partitionFor: () => 0,
    localStore: (_name, partition) => (partition === 0 ? store : partition === 1 ? 'restoring' : undefined),
    localPartitions: () => [0],
    standbyStore: (_name, partition) =>
      partition === 2
        ? { store, lag: 7n, caughtUp: true }
        : partition === 3
          ? { store, lag: undefined, caughtUp: false }
          : undefined
  }
  const lags = allLocalStorePartitionLags(source, ['counts', 'unknown'])
  assert.deepEqual([...lags.keys()], ['counts'], 'a store held nowhere here is left out')
  assert.deepEqual(
    lags.get('counts'),
    new Map([
      [0, { kind: 'active', offsetLag: 0n }],
      [1, { kind: 'restoring', offsetLag: undefined }],
      [2, { kind: 'standby', offsetLag: 7n, caughtUp: true }],
      [3, { kind: 'standby', offsetLag: undefined, caughtUp: false }]
    ])
  )
})
