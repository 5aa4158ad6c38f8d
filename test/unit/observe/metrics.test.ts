import assert from 'node:assert/strict'
import { test } from 'node:test'
import { register as globalRegistry } from 'prom-client'
import { APP_METRIC_NAMES, type AppMetricsSource, createAppMetrics } from '../../../src/observe/metrics.ts'
import type { AppState } from '../../../src/runtime/app-state.ts'
import { newTaskCounters } from '../../../src/topology/task-counters.ts'

/** The value of one series in Prometheus text, e.g. `series(text, 'x_total{stage="processing"}')`. */
function series(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

function fakeApp() {
  const counters = newTaskCounters()
  const values = {
    state: 'CREATED' as AppState,
    committed: 0,
    restored: 0,
    remaining: 0,
    tasks: 0,
    rebalances: 0,
    fencings: 0
  }
  const source: AppMetricsSource = {
    state: () => values.state,
    taskCounters: () => counters,
    committedRecords: () => values.committed,
    restoredRecords: () => values.restored,
    remainingRestoreRecords: () => values.remaining,
    activeTasks: () => values.tasks,
    rebalances: () => values.rebalances,
    producerFencings: () => values.fencings
  }
  return { counters, values, metrics: createAppMetrics(source) }
}

test('every metric reads the app when scraped', async () => {
  const { counters, values, metrics } = fakeApp()
  counters.processed = 42
  counters.skipped.deserialization = 3
  counters.deadLettered = 2
  counters.dropped.late = 5
  Object.assign(values, {
    state: 'RUNNING',
    committed: 40,
    restored: 7,
    remaining: 9,
    tasks: 4,
    rebalances: 2,
    fencings: 1
  })
  const text = await metrics.registry.metrics()
  assert.equal(series(text, 'streamlane_app_state{state="RUNNING"}'), 1)
  assert.equal(series(text, 'streamlane_app_state{state="REBALANCING"}'), 0)
  assert.equal(series(text, 'streamlane_app_active_tasks'), 4)
  assert.equal(series(text, 'streamlane_app_rebalances_total'), 2)
  assert.equal(series(text, 'streamlane_app_producer_fencings_total'), 1)
  assert.equal(series(text, 'streamlane_app_records_committed_total'), 40)
  assert.equal(series(text, 'streamlane_task_records_processed_total'), 42)
  assert.equal(series(text, 'streamlane_task_records_skipped_total{stage="deserialization"}'), 3)
  assert.equal(series(text, 'streamlane_task_records_skipped_total{stage="production"}'), 0)
  assert.equal(series(text, 'streamlane_task_records_dead_lettered_total'), 2)
  assert.equal(series(text, 'streamlane_task_records_dropped_total{reason="late"}'), 5)
  assert.equal(series(text, 'streamlane_task_records_dropped_total{reason="null-key"}'), 0)
  assert.equal(series(text, 'streamlane_state_restore_records_total'), 7)
  assert.equal(series(text, 'streamlane_state_restore_remaining_records'), 9)
  for (const name of APP_METRIC_NAMES) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'))

  // The next scrape sees the new values, not a sum with the old ones.
  counters.processed = 50
  values.state = 'PENDING_SHUTDOWN'
  const next = await metrics.registry.metrics()
  assert.equal(series(next, 'streamlane_task_records_processed_total'), 50)
  assert.equal(series(next, 'streamlane_app_state{state="RUNNING"}'), 0)
  assert.equal(series(next, 'streamlane_app_state{state="PENDING_SHUTDOWN"}'), 1)
})

test('commit durations go into a histogram', async () => {
  const { metrics } = fakeApp()
  metrics.commitTimer()()
  metrics.commitTimer()()
  const text = await metrics.registry.metrics()
  assert.equal(series(text, 'streamlane_app_commit_duration_seconds_count'), 2)
  assert.equal(series(text, 'streamlane_app_commit_duration_seconds_bucket{le="+Inf"}'), 2)
})

test('each app has its own registry with the process metrics, and the global registry stays untouched', async () => {
  const a = fakeApp()
  const b = fakeApp()
  a.counters.processed = 1
  b.counters.processed = 2
  const [textA, textB] = await Promise.all([a.metrics.registry.metrics(), b.metrics.registry.metrics()])
  assert.equal(series(textA, 'streamlane_task_records_processed_total'), 1)
  assert.equal(series(textB, 'streamlane_task_records_processed_total'), 2)
  for (const text of [textA, textB]) {
    assert.match(text, /^process_cpu_seconds_total /m)
    assert.match(text, /^nodejs_heap_size_used_bytes /m)
  }
  assert.doesNotMatch(await globalRegistry.metrics(), /streamlane_|process_cpu/)
})
