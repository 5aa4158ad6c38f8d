import assert from 'node:assert/strict'
import { test } from 'node:test'
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
