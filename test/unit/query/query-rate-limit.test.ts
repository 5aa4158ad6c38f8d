import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import type { QuerySource } from '../../../src/query/index.ts'
import { FORWARDED_HEADER, registerQueryRoutes } from '../../../src/query/query-routes.ts'

/** An instance alone in its group that holds nothing: enough for /query/metadata. */
const source: QuerySource = {
  localHost: '127.0.0.1:1',
  hostMap: () => ({ active: new Map([['127.0.0.1:1', []]]), standby: new Map() }),
  partitioning: () => undefined,
  partitionFor: () => 0,
  localStore: () => undefined,
  localPartitions: () => [],
  standbyStore: () => undefined
}

test('queryMaxRate: past it a client query is a retriable 429; forwarded queries are not counted', async () => {
  const server = Fastify()
  const outcomes: string[] = []
  registerQueryRoutes(server, {
    source,
    stores: [],
    scheme: 'http',
    maxRate: 2,
    onAnswer: (event) => outcomes.push(`${event.via}:${event.outcome}`)
  })
  try {
    assert.equal((await server.inject({ url: '/query/metadata' })).statusCode, 200)
    assert.equal((await server.inject({ url: '/query/metadata' })).statusCode, 200)
    const refused = await server.inject({ url: '/query/metadata' })
    assert.equal(refused.statusCode, 429)
    assert.equal(refused.headers['retry-after'], '1')
    assert.equal(refused.json().error.code, 'STREAMLANE_QUERY_BUSY')
    assert.equal(refused.json().error.retriable, true)
    const forwarded = await server.inject({ url: '/query/metadata', headers: { [FORWARDED_HEADER]: '1' } })
    assert.equal(forwarded.statusCode, 200, 'counted where the client asked')
    assert.deepEqual(outcomes, ['client:local', 'client:local', 'client:busy', 'peer:local'])
  } finally {
    await server.close()
  }
})
