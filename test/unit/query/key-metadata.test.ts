import assert from 'node:assert/strict'
import { test } from 'node:test'
import { murmur2Partition } from '../../../src/kafka/index.ts'
import {
  type GroupHostMap,
  metadataForAllStreamsClients,
  QueryError,
  type QuerySource,
  queryMetadataForKey
} from '../../../src/query/index.ts'
import { Serdes } from '../../../src/serde/index.ts'

const TOPIC = 'app-counts-repartition'

function source(map: GroupHostMap | undefined): QuerySource {
  return {
    localHost: 'a:1',
    hostMap: () => map,
    partitioning: (store) =>
      store === 'counts' ? { topic: TOPIC, partitions: 4, kind: 'timestamped-key-value' } : undefined,
    partitionFor: murmur2Partition,
    localStore: () => undefined,
    localPartitions: () => [],
    standbyStore: () => undefined
  }
}

const map: GroupHostMap = {
  active: new Map([
    ['a:1', [{ topic: TOPIC, partitions: [0, 1] }]],
    ['b:2', [{ topic: TOPIC, partitions: [2, 3] }]]
  ]),
  standby: new Map([['b:2', [{ topic: TOPIC, partitions: [0] }]]])
}

test('a key goes to the host whose active tasks hold its murmur2 partition, with the standby hosts of it', () => {
  for (const word of ['kafka', 'streams', 'hello', 'world', 'a', 'b', 'c']) {
    const partition = murmur2Partition(Buffer.from(word), 4)
    const metadata = queryMetadataForKey(source(map), 'counts', word, Serdes.string())
    assert.equal(metadata.partition, partition)
    assert.equal(metadata.activeHost, partition < 2 ? 'a:1' : 'b:2')
    assert.deepEqual(metadata.standbyHosts, partition === 0 ? ['b:2'] : [])
  }
})

test('during a rebalance (no host map) a query gets a retriable error, never a guess', () => {
  assert.throws(
    () => queryMetadataForKey(source(undefined), 'counts', 'kafka', Serdes.string()),
    (error) => error instanceof QueryError && error.code === 'STREAMLANE_QUERY_UNAVAILABLE' && error.retriable
  )
  assert.throws(() => metadataForAllStreamsClients(source(undefined), ['counts']), QueryError)
})

test('an unknown store is a 404, not retriable', () => {
  assert.throws(
    () => queryMetadataForKey(source(map), 'nope', 'kafka', Serdes.string()),
    (error) => error instanceof QueryError && error.status === 404 && !error.retriable
  )
})

test('a store of the topology whose partitions the starting instance does not know yet is a retriable 503', () => {
  const starting: QuerySource = {
    ...source(map),
    partitioning: () => undefined,
    hasStore: (store) => store === 'counts'
  }
  assert.throws(
    () => queryMetadataForKey(starting, 'counts', 'kafka', Serdes.string()),
    (error) =>
      error instanceof QueryError &&
      error.code === 'STREAMLANE_QUERY_UNAVAILABLE' &&
      error.status === 503 &&
      error.retriable
  )
  assert.throws(
    () => queryMetadataForKey(starting, 'nope', 'kafka', Serdes.string()),
    (error) => error instanceof QueryError && error.code === 'STREAMLANE_QUERY_UNKNOWN_STORE'
  )
})

test('metadataForAllStreamsClients lists every host with its partitions', () => {
  const all = metadataForAllStreamsClients(source(map), ['counts'])
  assert.deepEqual(
    all.map((c) => [c.host, c.activePartitions[0]?.partitions, c.standbyPartitions[0]?.partitions ?? []]),
    [
      ['a:1', [0, 1], []],
      ['b:2', [2, 3], [0]]
    ]
  )
})
