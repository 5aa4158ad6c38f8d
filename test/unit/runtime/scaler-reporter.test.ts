import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { test } from 'node:test'
import { parseInstanceReport } from '../../../src/autoscale/signals/instance-report.ts'
import { createLogger } from '../../../src/observe/logger.ts'
import { type InstanceStatus, ScalerReporter } from '../../../src/runtime/scaler-reporter.ts'

test('a report gives records per busy second and the busy share of the interval', () => {
  let status: InstanceStatus = { processed: 0, busyMs: 0, rebalanceInProgress: false, restoringTasks: 0 }
  const reporter = new ScalerReporter({
    scalerUrl: 'http://127.0.0.1:1',
    groupId: 'app',
    instanceId: 'pod-0',
    intervalMs: 2_000,
    status: () => status,
    logger: createLogger()
  })
  reporter.nextReport(1_000)
  status = { processed: 3_000, busyMs: 500, rebalanceInProgress: true, restoringTasks: 2, memberId: 'm-1' }
  const report = reporter.nextReport(3_000)
  assert.deepEqual(report, {
    groupId: 'app',
    instanceId: 'pod-0',
    memberId: 'm-1',
    trueProcessingRate: 6_000,
    busyRatio: 0.25,
    rebalanceInProgress: true,
    restoringTasks: 2,
    at: 3_000
  })
})

test('an idle interval reports no rate rather than a rate of zero', () => {
  const status: InstanceStatus = { processed: 10, busyMs: 100, rebalanceInProgress: false, restoringTasks: 0 }
  const reporter = new ScalerReporter({
    scalerUrl: 'http://127.0.0.1:1',
    groupId: 'app',
    instanceId: 'pod-0',
    intervalMs: 2_000,
    status: () => status,
    logger: createLogger()
  })
  reporter.nextReport(1_000)
  const report = reporter.nextReport(3_000)
  assert.equal('trueProcessingRate' in report, false)
  assert.equal(report.busyRatio, 0)
})

test('reports carry the bearer token when one is configured', async () => {
  const seen: (string | undefined)[] = []
  const server = createServer((request, response) => {
    seen.push(request.headers.authorization)
    request.resume()
    request.on('end', () => response.writeHead(204).end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const reporter = (token?: string) =>
    new ScalerReporter({
      scalerUrl: `http://127.0.0.1:${port}`,
      groupId: 'app',
      instanceId: 'pod-0',
      intervalMs: 2_000,
      token,
      status: () => ({ processed: 0, busyMs: 0, rebalanceInProgress: false, restoringTasks: 0 }),
      logger: createLogger()
    })
  try {
    await reporter('t0ken').report()
    await reporter().report()
    assert.deepEqual(seen, ['Bearer t0ken', undefined])
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})

test('a report says how many records are in flight and how old the oldest is, when the runtime tracks them', () => {
  const status: InstanceStatus = {
    processed: 0,
    busyMs: 0,
    rebalanceInProgress: false,
    restoringTasks: 0,
    inFlight: { records: 3, oldestStartedAt: 500 }
  }
  const reporter = new ScalerReporter({
    scalerUrl: 'http://127.0.0.1:1',
    groupId: 'app',
    instanceId: 'pod-0',
    intervalMs: 2_000,
    status: () => status,
    logger: createLogger()
  })
  const report = reporter.nextReport(3_000)
  assert.equal(report.inFlightRecords, 3)
  assert.equal(report.oldestInFlightMs, 2_500)
})

test('a report carries warm-up progress and the standby replica count, which the scaler holds scale-in on', () => {
  const status: InstanceStatus = {
    processed: 0,
    busyMs: 0,
    rebalanceInProgress: false,
    restoringTasks: 0,
    warmups: [{ task: '0_1', progress: 0.4 }],
    standbyReplicas: 1
  }
  const reporter = new ScalerReporter({
    scalerUrl: 'http://127.0.0.1:1',
    groupId: 'app',
    instanceId: 'pod-0',
    intervalMs: 2_000,
    status: () => status,
    logger: createLogger()
  })
  const report = reporter.nextReport(3_000)
  assert.deepEqual(report.warmups, [{ task: '0_1', progress: 0.4 }])
  assert.equal(report.standbyReplicas, 1)
  // What the scaler accepts: the report's schema knows both fields.
  assert.equal(parseInstanceReport(report, 3_000).warmups[0]!.progress, 0.4)
})
