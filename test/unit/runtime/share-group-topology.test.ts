import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../../../src/errors.ts'
import { resolveConfig, Serdes, ShareGroupApp, StreamsBuilder } from '../../../src/index.ts'

const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() }

function config(extra: Record<string, unknown> = {}) {
  return resolveConfig({ applicationId: 'share-app', bootstrapServers: ['127.0.0.1:9'], shareGroup: {}, ...extra })
}

test('a stateless topology runs on a share group; the settings get their defaults', () => {
  const builder = new StreamsBuilder()
  builder
    .stream('in', strings)
    .mapValues((v) => v.toUpperCase())
    .to('out', strings)
  const app = new ShareGroupApp(builder.build(), config())
  assert.deepEqual(app.config.shareGroup, { concurrency: 1, maxDeliveries: 5 })
})

test('stateful, repartitioning and pattern topologies are refused, naming why', () => {
  const counting = new StreamsBuilder()
  counting.stream('in', strings).groupByKey().count()
  assert.throws(
    () => new ShareGroupApp(counting.build(), config()),
    /state stores .*Share groups run stateless topologies only/s
  )

  const rekeying = new StreamsBuilder()
  rekeying
    .stream('in', strings)
    .selectKey((_, v) => v)
    .repartition({ name: 'by-value', ...strings })
    .to('out')
  assert.throws(() => new ShareGroupApp(rekeying.build(), config()), /2 sub-topologies \(repartitioning\)/)

  const pattern = new StreamsBuilder()
  pattern.stream(/orders-.*/, strings).to('out')
  assert.throws(() => new ShareGroupApp(pattern.build(), config()), /a pattern source/)
})

test('a topology joining a global table is refused', () => {
  const builder = new StreamsBuilder()
  const users = builder.globalTable('users', strings)
  builder
    .stream('in', strings)
    .join(
      users,
      (key) => key,
      (value, user) => `${value}:${user}`
    )
    .to('out', strings)
  assert.throws(() => new ShareGroupApp(builder.build(), config()), /global tables/)
})

test('exactly-once is refused with a share group', () => {
  const builder = new StreamsBuilder()
  builder.stream('in', strings).to('out')
  assert.throws(
    () => new ShareGroupApp(builder.build(), config({ processingGuarantee: 'exactly_once_v2' })),
    /exactly_once_v2 \(share groups have no transactional offsets\)/
  )
})

test('bad share group settings name the field', () => {
  assert.throws(
    () => config({ shareGroup: { concurrency: 0 } }),
    (e: unknown) => {
      return e instanceof ConfigError && /shareGroup\.concurrency/.test(e.message)
    }
  )
  assert.throws(() => config({ shareGroup: { maxDelivery: 3 } }), /shareGroup.*maxDelivery/)
})
