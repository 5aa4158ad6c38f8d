import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { startExternalScalerServer, toStatus } from '../../../src/autoscale/keda/grpc-server.ts'
import { defaultPolicy, toScalingSignals } from '../../../src/autoscale/keda/policy-adapter.ts'
import { externalScalerClient } from '../../../src/autoscale/keda/proto.ts'
import { metricNameFor, ScalerService } from '../../../src/autoscale/keda/scaler-service.ts'
import { parseTriggerMetadata } from '../../../src/autoscale/keda/trigger-metadata.ts'
import { createRateEstimator } from '../../../src/autoscale/policy/rate-window.ts'
import { SignalCollector } from '../../../src/autoscale/signals/collector.ts'
import { KafkaUnavailableError, ScalerInputError, UnknownGroupError } from '../../../src/autoscale/signals/errors.ts'
import { InstanceReportStore } from '../../../src/autoscale/signals/report-store.ts'
import type { GroupSignals } from '../../../src/autoscale/signals/types.ts'
import { type FakeCluster, fakeAdmin, fakeCluster } from './signals-fake-admin.ts'

test('trigger metadata: required keys, defaults, strictness, field names in errors', () => {
  const t = parseTriggerMetadata(
    {
      bootstrapServers: 'k1:9092, k2:9092',
      consumerGroup: 'orders',
      topics: 'a,b',
      maxReplicas: '12',
      partitionAwareRounding: 'false',
      scalerAddress: 'streamlane-scaler:9090'
    },
    'metadata',
    [],
    { allowAnyBrokers: true }
  )
  assert.deepEqual(t.brokers, ['k1:9092', 'k2:9092'])
  assert.deepEqual(t.topics, ['a', 'b'])
  assert.equal(t.targets.maxReplicas, 12)
  assert.equal(t.targets.minReplicas, 1, "the policy's default")
  assert.equal(t.targets.partitionAwareRounding, false)
  assert.equal(t.rateWindowSeconds, 60)
  assert.deepEqual(parseTriggerMetadata({ consumerGroup: 'g' }, 'metadata', ['d:1']).brokers, ['d:1'])

  const field = (metadata: Record<string, string>, prefix?: string) => {
    try {
      parseTriggerMetadata(metadata, prefix, [], { allowAnyBrokers: true })
    } catch (error) {
      assert.ok(error instanceof ScalerInputError)
      assert.equal(error.kind, 'invalid')
      return error.field
    }
    assert.fail('no error')
  }
  assert.equal(field({ consumerGroup: 'g' }), 'metadata.bootstrapServers')
  assert.equal(field({ bootstrapServers: 'k:1' }), 'metadata.consumerGroup')
  assert.equal(field({ bootstrapServers: 'nohostport', consumerGroup: 'g' }), 'metadata.bootstrapServers')
  assert.equal(field({ bootstrapServers: 'k:1', consumerGroup: 'g', lagThreshold: '5' }), 'metadata.lagThreshold')
  // KEDA's Kafka scaler reads credentials from its trigger; this scaler refuses them (it uses its own).
  assert.equal(
    field({ bootstrapServers: 'k:1', consumerGroup: 'g', sasl: 'plaintext', password: 'x' }),
    'metadata.sasl'
  )
  assert.throws(
    () => parseTriggerMetadata({ consumerGroup: 'g', username: 'u' }, 'metadata', ['d:1']),
    /metadata\.username: Kafka credentials are not taken from a trigger/
  )
  assert.equal(field({ bootstrapServers: 'k:1', consumerGroup: 'g', maxReplicas: 'x' }, 'query'), 'query.maxReplicas')
  assert.equal(
    field({ bootstrapServers: 'k:1', consumerGroup: 'g', minReplicas: '5', maxReplicas: '2' }),
    'metadata.maxReplicas'
  )
  assert.equal(
    field({ bootstrapServers: 'k:1', consumerGroup: 'g', allowUnknownGroup: 'yes' }),
    'metadata.allowUnknownGroup'
  )
  assert.equal(field({ bootstrapServers: 'k:1', consumerGroup: 'g', allowUnknownGroup: 'true' }), 'metadata.topics')
  assert.equal(
    field({ bootstrapServers: 'k:1', consumerGroup: 'g', rateWindowSeconds: '0' }),
    'metadata.rateWindowSeconds'
  )
})

test('metric names are DNS-label-like', () => {
  assert.equal(metricNameFor('Orders_App.v2'), 'streamlane-lag-orders-app.v2')
  assert.equal(metricNameFor('__'), 'streamlane-lag-group')
})

test('error -> gRPC status: INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE, INTERNAL, with the code in the details', () => {
  assert.equal(toStatus(new ScalerInputError('metadata.x', 'bad')).code, grpc.status.INVALID_ARGUMENT)
  const notFound = toStatus(new UnknownGroupError('g', ['b:1']))
  assert.equal(notFound.code, grpc.status.NOT_FOUND)
  assert.match(notFound.details ?? '', /^STREAMLANE_SCALER_GROUP_UNKNOWN: /)
  assert.equal(toStatus(new KafkaUnavailableError('g', ['b:1'], new Error('x'))).code, grpc.status.UNAVAILABLE)
  assert.equal(toStatus(new Error('bug')).code, grpc.status.INTERNAL)
})

test('policy adapter: the coordinator rebalancing counts as a rebalance; processing = members with partitions', () => {
  const signals: GroupSignals = {
    snapshot: {
      groupId: 'g',
      at: 5,
      state: 'PreparingRebalance',
      topics: ['t'],
      partitions: [],
      members: [
        { memberId: 'a', clientId: 'c', host: 'h', assignment: [{ topic: 't', partitions: [0] }] },
        { memberId: 'b', clientId: 'c', host: 'h', assignment: [] }
      ],
      tasks: { count: 1, basis: 'partitions' },
      totalLag: 0,
      noCommittedOffsets: false,
      unknownGroup: false
    },
    rates: { arrivalRate: 3, commitRate: 2, windowSeconds: 60 },
    instances: { reporting: 0, rebalanceInProgress: false, restorationInProgress: false }
  }
  const s = toScalingSignals(signals, 2)
  assert.equal(s.instances?.rebalanceInProgress, true)
  assert.equal(s.processingReplicas, 1)
  assert.equal(s.currentReplicas, 2)
  assert.equal(s.atMs, 5)
})

function serviceFor(cluster: FakeCluster, now: () => number = Date.now) {
  const collector = new SignalCollector({
    adminFactory: () => fakeAdmin(cluster),
    estimator: createRateEstimator,
    reports: new InstanceReportStore(),
    now
  })
  return new ScalerService({ collector, policy: defaultPolicy, reuseMs: 1_000, now, defaultBrokers: ['k:1'] })
}

const lagging = () =>
  fakeCluster({
    topics: { t: { start: [0, 0], end: [100, 100] } },
    groups: { g: { state: 'Empty', commits: { t: { 0: 50, 1: 100 } } } }
  })

test('service: one evaluation answers GetMetrics and the IsActive right after it; errors are never a zero', async () => {
  const cluster = lagging()
  let now = 10_000
  const service = serviceFor(cluster, () => now)
  const request = { namespace: 'ns', name: 'so', metadata: { bootstrapServers: 'k:1', consumerGroup: 'g' } }
  const first = await service.evaluate(request)
  assert.equal(first.signals.snapshot.totalLag, 50)
  assert.equal(first.replicas, 1)
  assert.equal(first.metricValue, 1)
  assert.equal(first.active, true)
  const calls = cluster.calls
  now += 200
  assert.equal(await service.evaluate(request), first, 'reused within reuseMs')
  assert.equal(cluster.calls, calls)
  now += 2_000
  assert.notEqual(await service.evaluate(request), first)

  cluster.failWith = new Error('connect ECONNREFUSED')
  now += 2_000
  await assert.rejects(service.evaluate(request), KafkaUnavailableError)
  await assert.rejects(service.evaluate({ ...request, metadata: { bootstrapServers: 'k:1' } }), ScalerInputError)
  await service.close()
})

function call<T>(client: grpc.Client & Record<string, unknown>, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as (r: unknown, cb: (e: grpc.ServiceError | null, v: T) => void) => void
    fn.call(client, request, (error, value) => (error ? reject(error) : resolve(value)))
  })
}

test('gRPC: every RPC over the wire; StreamIsActive pushes when activity changes', async () => {
  const cluster = lagging()
  const service = serviceFor(cluster)
  const server = await startExternalScalerServer({ service, address: '127.0.0.1:0', streamIntervalMs: 20 })
  const client = externalScalerClient(`127.0.0.1:${server.port}`)
  const ref = {
    name: 'so',
    namespace: 'ns',
    scalerMetadata: { bootstrapServers: 'k:1', consumerGroup: 'g', minReplicas: '0', scaleToZeroAfterSeconds: '0' }
  }
  try {
    const spec = await call<{ metricSpecs: { metricName: string; targetSize: number; targetSizeFloat: number }[] }>(
      client,
      'GetMetricSpec',
      ref
    )
    assert.deepEqual(spec.metricSpecs, [{ metricName: 'streamlane-lag-g', targetSize: 1, targetSizeFloat: 1 }])
    const metrics = await call<{
      metricValues: { metricName: string; metricValue: number; metricValueFloat: number }[]
    }>(client, 'GetMetrics', { scaledObjectRef: ref, metricName: 'streamlane-lag-g' })
    assert.deepEqual(metrics.metricValues, [{ metricName: 'streamlane-lag-g', metricValue: 1, metricValueFloat: 1 }])
    assert.deepEqual(await call(client, 'IsActive', ref), { result: true })

    const stream = (client.StreamIsActive as (r: unknown) => grpc.ClientReadableStream<{ result: boolean }>).call(
      client,
      ref
    )
    const seen: boolean[] = []
    const drained = new Promise<void>((resolve, reject) => {
      stream.on('data', (m: { result: boolean }) => {
        seen.push(m.result)
        // Once the stream said "active", the group catches up: the next push must say "inactive".
        if (seen.length === 1) cluster.groups.g!.commits = { t: { 0: 100, 1: 100 } }
        if (seen.length === 2) resolve()
      })
      stream.on('error', reject)
    })
    await drained
    assert.deepEqual(seen, [true, false])
    stream.cancel()

    cluster.groups = {}
    // Another ScaledObject: the one above may still reuse its last (stream) evaluation for up to reuseMs.
    await assert.rejects(call(client, 'IsActive', { ...ref, name: 'so2' }), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.NOT_FOUND)
      assert.match(e.details, /STREAMLANE_SCALER_GROUP_UNKNOWN/)
      return true
    })
    await assert.rejects(call(client, 'GetMetrics', { metricName: 'x' }), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT)
      return true
    })
  } finally {
    client.close()
    await server.close()
    await service.close()
  }
})
