import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkBrokers, groupAllowed } from '../../../src/autoscale/keda/access-policy.ts'
import { defaultPolicy } from '../../../src/autoscale/keda/policy-adapter.ts'
import { ScalerService } from '../../../src/autoscale/keda/scaler-service.ts'
import { MAX_METADATA_CHARS, parseTriggerMetadata } from '../../../src/autoscale/keda/trigger-metadata.ts'
import { createRateEstimator } from '../../../src/autoscale/policy/rate-window.ts'
import { SignalCollector } from '../../../src/autoscale/signals/collector.ts'
import { ScalerInputError, ScalerNotAllowedError } from '../../../src/autoscale/signals/errors.ts'
import { parseInstanceReport } from '../../../src/autoscale/signals/instance-report.ts'
import { LruMap } from '../../../src/autoscale/signals/lru-map.ts'
import { InstanceReportStore } from '../../../src/autoscale/signals/report-store.ts'
import { fakeAdmin, fakeCluster } from './signals-fake-admin.ts'

test('LruMap: bounded by count and bytes, least recently used out first, work in flight kept', () => {
  const evicted: string[] = []
  const map = new LruMap<string, { bytes: number; busy?: boolean }>({
    maxEntries: 3,
    maxBytes: 100,
    sizeOf: (v) => v.bytes,
    evictable: (v) => !v.busy,
    onEvict: (key) => evicted.push(key)
  })
  map.set('a', { bytes: 10 })
  map.set('b', { bytes: 10, busy: true })
  map.set('c', { bytes: 10 })
  map.get('a')
  map.set('d', { bytes: 10 })
  assert.deepEqual(evicted, ['c'], 'b is busy, a was used last: c goes')
  map.set('e', { bytes: 75 })
  assert.deepEqual(evicted, ['c', 'a'], 'one out is enough: 3 entries, 95 bytes')
  map.set('f', { bytes: 20 })
  assert.deepEqual(evicted, ['c', 'a', 'd', 'e'], 'bytes: 115 over 100 after d, so e goes too')
  assert.deepEqual(
    [...map.entries()].map(([k]) => k),
    ['b', 'f']
  )
  assert.equal(map.bytes, 30)
})

const report = (groupId: string, instanceId: string, extra: object = {}) =>
  parseInstanceReport({ groupId, instanceId, ...extra }, 1_000)

test('report store: a flood of instance ids stays within the count and byte bounds; evictions are counted', () => {
  let evictions = 0
  const store = new InstanceReportStore({
    ttlMs: 60_000,
    maxReports: 100,
    maxBytes: 20_000,
    onEvict: () => evictions++
  })
  store.put(report('real', 'pod-0', { trueProcessingRate: 100 }))
  for (let i = 0; i < 5_000; i++) {
    store.put(report(`flood-${i % 50}`, `i-${i}-${'x'.repeat(200)}`))
    // The real instance keeps reporting, as it does every two seconds.
    if (i % 50 === 0) store.put(report('real', 'pod-0', { trueProcessingRate: 100 }))
    assert.ok(store.size.reports <= 100 && store.size.bytes <= 20_000)
  }
  assert.ok(evictions >= 4_900, `${evictions} evictions`)
  assert.equal(store.summarize('real', 2_000).trueRatePerInstance, 100)
  assert.ok(store.size.groups <= 51)
})

test('a report is bounded in itself: long ids and huge warm-up lists are invalid, unknown keys are dropped', () => {
  assert.throws(() => report('g', 'x'.repeat(256)), ScalerInputError)
  const warmups = Array.from({ length: 1_001 }, (_, i) => ({ task: `0_${i}`, progress: 0 }))
  assert.throws(() => report('g', 'i', { warmups }), /report.warmups/)
  assert.equal('junk' in report('g', 'i', { junk: 'x'.repeat(10_000) }), false)
})

test('allow-lists: groups exact or by prefix; brokers the defaults, the allowed ones, or any when the operator says so', () => {
  assert.equal(groupAllowed({}, 'anything'), true)
  assert.equal(groupAllowed({ groups: ['orders', 'shop-*'] }, 'orders'), true)
  assert.equal(groupAllowed({ groups: ['orders', 'shop-*'] }, 'shop-refunds'), true)
  assert.equal(groupAllowed({ groups: ['orders', 'shop-*'] }, 'orders2'), false)
  assert.doesNotThrow(() => checkBrokers({}, ['Kafka:9092'], ['kafka:9092'], 'f'))
  assert.doesNotThrow(() => checkBrokers({ allowedBrokers: ['other:9092'] }, ['other:9092'], [], 'f'))
  assert.doesNotThrow(() => checkBrokers({ allowAnyBrokers: true }, ['10.0.0.1:22'], [], 'f'))
  assert.throws(
    () => checkBrokers({ allowedBrokers: ['other:9092'] }, ['other:9092', '169.254.169.254:80'], ['kafka:9092'], 'f'),
    (e: ScalerNotAllowedError) =>
      e.kind === 'forbidden' && e.message.includes('169.254.169.254:80') && !e.message.includes('other:9092')
  )
})

test('a caller-chosen bootstrapServers is refused before any connection; oversized metadata too', async () => {
  const cluster = fakeCluster({ groups: { g: { state: 'Empty', commits: {} } } })
  const dialled: string[][] = []
  const collector = new SignalCollector({
    adminFactory: (o) => {
      dialled.push(o.brokers)
      return fakeAdmin(cluster)
    },
    estimator: createRateEstimator,
    reports: new InstanceReportStore()
  })
  const service = new ScalerService({ collector, policy: defaultPolicy, defaultBrokers: ['kafka:9092'] })
  const ask = (metadata: Record<string, string>) => service.evaluate({ namespace: 'n', name: 'so', metadata })
  for (const target of ['127.0.0.1:22', 'kafka:9092,evil:9092', 'metadata.google.internal:80']) {
    await assert.rejects(ask({ consumerGroup: 'g', bootstrapServers: target }), (e: ScalerNotAllowedError) => {
      assert.equal(e.code, 'STREAMLANE_SCALER_NOT_ALLOWED')
      assert.equal(e.field, 'metadata.bootstrapServers')
      return true
    })
  }
  assert.deepEqual(dialled, [], 'no admin client was made for a refused address')
  assert.throws(
    () => parseTriggerMetadata({ consumerGroup: 'g', topics: 'x'.repeat(MAX_METADATA_CHARS) }, 'metadata', ['k:1']),
    /metadata: \d+ characters/
  )
  await service.close()
})

test('a flood of distinct ScaledObject names keeps the state bounded, and the real one keeps its answer', async () => {
  const cluster = fakeCluster({
    topics: { t: { start: [0, 0], end: [100, 100] } },
    groups: { real: { state: 'Empty', commits: { t: { 0: 50, 1: 100 } } } }
  })
  let evicted = 0
  const collector = new SignalCollector({
    adminFactory: () => fakeAdmin(cluster),
    estimator: createRateEstimator,
    reports: new InstanceReportStore(),
    maxTracked: 50,
    onEvict: () => evicted++
  })
  const service = new ScalerService({
    collector,
    policy: defaultPolicy,
    defaultBrokers: ['k:1'],
    access: { groups: ['real', 'flood-*'] },
    maxObjects: 20,
    onEvict: () => evicted++,
    reuseMs: 0
  })
  const real = { namespace: 'shop', name: 'orders', metadata: { consumerGroup: 'real', minReplicas: '2' } }
  const first = await service.evaluate(real)
  for (let i = 0; i < 2_000; i++) {
    // Unknown groups fail (as a typo would), on the allow-list or not; their state is bounded either way.
    await service
      .evaluate({ namespace: 'x', name: `n-${i}`, metadata: { consumerGroup: `flood-${i}` } })
      .catch(() => {})
    await assert.rejects(
      service.evaluate({ namespace: 'x', name: `m-${i}`, metadata: { consumerGroup: `other-${i}` } }),
      ScalerNotAllowedError
    )
    if (i % 100 === 0) {
      const again = await service.evaluate(real)
      assert.equal(again.metricValue, first.metricValue)
      assert.equal(again.signals.snapshot.totalLag, 50)
    }
    assert.ok(service.objects <= 20)
    assert.ok(collector.size.tracked <= 50)
  }
  assert.ok(evicted > 0)
  assert.equal(service.serves('real'), true)
  assert.equal(service.serves('other-1'), false)
  await service.close()
})
