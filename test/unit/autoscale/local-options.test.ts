import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { test } from 'node:test'
import { LocalReportStore } from '../../../src/autoscale/local/local-report-store.ts'
import { parseLocalScalerOptions } from '../../../src/autoscale/local/options.ts'
import { instanceIdFor } from '../../../src/autoscale/local/worker-identity.ts'
import { parseInstanceReport } from '../../../src/autoscale/signals/instance-report.ts'
import { ConfigError } from '../../../src/errors.ts'

const base = { groupId: 'orders', brokers: ['k:9092'], command: 'node' }

test('options: defaults, no HPA tolerance, max defaults to the core count', () => {
  const c = parseLocalScalerOptions(base)
  assert.equal(c.intervalMs, 2_000)
  assert.equal(c.graceMs, 30_000)
  assert.equal(c.reportPort, 0)
  assert.equal(c.reportHost, '127.0.0.1')
  assert.deepEqual(c.topics, [])
  assert.equal(c.policy.minReplicas, 1)
  assert.equal(c.policy.maxReplicas, availableParallelism())
  assert.equal(c.policy.hpaTolerance, 0, 'no HPA sits between the decision and the processes')
  const p = parseLocalScalerOptions({
    ...base,
    policy: { minReplicas: 0, maxReplicas: 3, scaleInStabilizationSeconds: 5 }
  })
  assert.deepEqual([p.policy.minReplicas, p.policy.maxReplicas, p.policy.scaleInStabilizationSeconds], [0, 3, 5])
})

test('options: errors name the field', () => {
  const field = (input: object) => {
    try {
      parseLocalScalerOptions(input as Parameters<typeof parseLocalScalerOptions>[0])
    } catch (error) {
      assert.ok(error instanceof ConfigError)
      return error.field
    }
    assert.fail('expected a ConfigError')
  }
  assert.equal(field({ ...base, groupId: ' ' }), 'autoscale.local.groupId')
  assert.equal(field({ ...base, brokers: ['nope'] }), 'autoscale.local.brokers.0')
  assert.equal(field({ ...base, graceMs: -1 }), 'autoscale.local.graceMs')
  assert.equal(field({ ...base, gracePeriod: 1 }), 'autoscale.local.gracePeriod')
  assert.equal(field({ ...base, policy: { minReplicas: 3, maxReplicas: 2 } }), 'autoscale.policy.maxReplicas')
  assert.equal(field({ ...base, policy: { tolerance: 2 } }), 'autoscale.policy.tolerance')
  assert.equal(field({ ...base, policy: { hpaTolerance: 0.1 } }), 'autoscale.policy.hpaTolerance')
  assert.equal(
    field({ ...base, restartBackoffMs: 5_000, maxRestartBackoffMs: 1_000 }),
    'autoscale.local.maxRestartBackoffMs'
  )
})

test('worker identity: stable per slot', () => {
  assert.equal(instanceIdFor('orders', 0), 'orders-worker-0')
  assert.equal(instanceIdFor('orders', 12), 'orders-worker-12')
})

test('report store: an exited worker stops counting at once; its restarted successor counts again', () => {
  const store = new LocalReportStore({ ttlMs: 60_000 })
  const report = (instanceId: string, receivedAt: number, rebalanceInProgress: boolean) =>
    parseInstanceReport({ groupId: 'g', instanceId, trueProcessingRate: 100, rebalanceInProgress }, receivedAt)
  store.put(report('g-worker-0', 1_000, false))
  store.put(report('g-worker-1', 1_000, true))
  assert.equal(store.summarize('g', 2_000).rebalanceInProgress, true)
  store.forget('g-worker-1', 1_500)
  assert.equal(store.summarize('g', 2_000).rebalanceInProgress, false, 'the dead worker no longer holds the scaler')
  assert.equal(store.summarize('g', 2_000).reporting, 1)
  store.put(report('g-worker-1', 1_400, true))
  assert.equal(store.summarize('g', 2_000).reporting, 1, 'a report sent before the exit is ignored')
  store.put(report('g-worker-1', 2_500, false))
  assert.equal(store.summarize('g', 3_000).reporting, 2, 'the restarted worker reports again')
})
