import assert from 'node:assert/strict'
import { test } from 'node:test'
import { register as globalRegistry } from 'prom-client'
import {
  APP_METRIC_NAMES,
  type AppMetricsSource,
  createAppMetrics,
  type PartitionLag,
  type StoreRestore,
  type StoreStats
} from '../../../src/observe/metrics.ts'
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
    restoring: 0,
    fencings: 0,
    lags: [] as PartitionLag[],
    stores: [] as StoreStats[],
    restoreByStore: [] as StoreRestore[],
    producer: { sent: 0, sendErrors: 0, unacknowledged: 0 }
  }
  const source: AppMetricsSource = {
    state: () => values.state,
    taskCounters: () => counters,
    committedRecords: () => values.committed,
    restoredRecords: () => values.restored,
    remainingRestoreRecords: () => values.remaining,
    activeTasks: () => values.tasks,
    restoringTasks: () => values.restoring,
    producerFencings: () => values.fencings,
    partitionLags: () => values.lags,
    stores: () => values.stores,
    producer: () => values.producer,
    restoreByStore: () => values.restoreByStore
  }
  return {
    counters,
    values,
    metrics: createAppMetrics(source, { applicationId: 'orders', topologyHash: 'abc123', partitionSeries: 2 })
  }
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
    fencings: 1,
    restoreByStore: [
      { store: 'counts', restored: 5, remaining: 9 },
      { store: 'totals', restored: 2, remaining: 0 }
    ]
  })
  metrics.rebalances.started('initial join', 1_000)
  metrics.rebalances.completed(1, 4, 1_500)
  metrics.rebalances.started('the coordinator started a rebalance', 2_000)
  const text = await metrics.registry.metrics()
  assert.equal(series(text, 'streamlane_app_state{state="RUNNING"}'), 1)
  assert.equal(series(text, 'streamlane_app_state{state="REBALANCING"}'), 0)
  assert.equal(series(text, 'streamlane_app_active_tasks'), 4)
  assert.equal(series(text, 'streamlane_app_rebalances_total{cause="join"}'), 1)
  assert.equal(series(text, 'streamlane_app_rebalances_total{cause="group"}'), 1)
  assert.equal(series(text, 'streamlane_app_rebalance_duration_seconds_count'), 1, 'the second is going on')
  assert.equal(series(text, 'streamlane_app_rebalance_duration_seconds_bucket{le="0.5"}'), 1)
  assert.equal(series(text, 'streamlane_app_rebalance_duration_seconds_bucket{le="0.25"}'), 0)
  assert.equal(series(text, 'streamlane_app_info{application_id="orders",version="0.1.0",topology_hash="abc123"}'), 1)
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
  assert.equal(series(text, 'streamlane_state_store_restored_records_total{store="counts"}'), 5)
  assert.equal(series(text, 'streamlane_state_store_restored_records_total{store="totals"}'), 2)
  assert.equal(series(text, 'streamlane_state_store_restore_remaining_records{store="counts"}'), 9)
  assert.equal(series(text, 'streamlane_state_store_restore_remaining_records{store="totals"}'), 0)
  for (const name of APP_METRIC_NAMES) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'))

  // The next scrape sees the new values, not a sum with the old ones.
  counters.processed = 50
  values.state = 'PENDING_SHUTDOWN'
  const next = await metrics.registry.metrics()
  assert.equal(series(next, 'streamlane_task_records_processed_total'), 50)
  assert.equal(series(next, 'streamlane_app_state{state="RUNNING"}'), 0)
  assert.equal(series(next, 'streamlane_app_state{state="PENDING_SHUTDOWN"}'), 1)
})

test('lag: the max and the sum always, per partition only for the most lagging ones allowed', async () => {
  const { values, metrics } = fakeApp()
  values.lags = [
    { task: '0_0', topic: 'in', partition: 0, lag: 5 },
    { task: '0_1', topic: 'in', partition: 1, lag: 40 },
    { task: '0_2', topic: 'in', partition: 2, lag: 7 }
  ]
  const text = await metrics.registry.metrics()
  assert.equal(series(text, 'streamlane_consumer_records_lag_max'), 40)
  assert.equal(series(text, 'streamlane_consumer_records_lag_sum'), 52)
  assert.equal(series(text, 'streamlane_consumer_records_lag{task="0_1",topic="in",partition="1"}'), 40)
  assert.equal(series(text, 'streamlane_consumer_records_lag{task="0_2",topic="in",partition="2"}'), 7)
  assert.equal(series(text, 'streamlane_consumer_records_lag{task="0_0",topic="in",partition="0"}'), undefined)
})

test('stores, producer and the loop: sizes, cache reads, sends, and histograms the loop feeds', async () => {
  const { values, metrics } = fakeApp()
  values.stores = [
    { store: 'counts', entries: 12, cacheHits: 30, cacheMisses: 10 },
    { store: 'windows', entries: undefined, cacheHits: 0, cacheMisses: 4 }
  ]
  values.producer = { sent: 100, sendErrors: 2, unacknowledged: 7 }
  metrics.loop.poll.observe(0.002)
  metrics.loop.polledRecords += 500
  metrics.loop.process.observe(0.05)
  metrics.loop.wallClockMs = 10_000
  metrics.loop.recordAtSink(9_990)
  metrics.loop.recordAtSink(7_000)
  metrics.loop.recordAtSink(20_000)
  const text = await metrics.registry.metrics()
  assert.equal(series(text, 'streamlane_state_store_entries{store="counts"}'), 12)
  assert.equal(series(text, 'streamlane_state_store_entries{store="windows"}'), undefined)
  assert.equal(series(text, 'streamlane_state_cache_hits_total{store="counts"}'), 30)
  assert.equal(series(text, 'streamlane_state_cache_misses_total{store="windows"}'), 4)
  assert.equal(series(text, 'streamlane_producer_records_sent_total'), 100)
  assert.equal(series(text, 'streamlane_producer_send_errors_total'), 2)
  assert.equal(series(text, 'streamlane_producer_unacknowledged_records'), 7)
  assert.equal(series(text, 'streamlane_thread_poll_duration_seconds_count'), 1)
  assert.equal(series(text, 'streamlane_thread_polled_records_total'), 500)
  assert.equal(series(text, 'streamlane_thread_process_duration_seconds_bucket{le="0.05"}'), 1)
  assert.equal(series(text, 'streamlane_thread_punctuate_duration_seconds_count'), 0)
  // 10 ms, 3 s, and a timestamp in the future counted as 0.
  assert.equal(series(text, 'streamlane_task_record_e2e_latency_seconds_count'), 3)
  assert.equal(series(text, 'streamlane_task_record_e2e_latency_seconds_bucket{le="0.01"}'), 2)
  assert.equal(series(text, 'streamlane_task_record_e2e_latency_seconds_bucket{le="2.5"}'), 2)
  assert.equal(series(text, 'streamlane_task_record_e2e_latency_seconds_bucket{le="5"}'), 3)
  assert.equal(series(text, 'streamlane_task_record_e2e_latency_seconds_sum'), 3.01)
  assert.deepEqual(
    (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'streamlane_thread_polled_records_total')
      ?.values[0]?.value,
    500
  )
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
