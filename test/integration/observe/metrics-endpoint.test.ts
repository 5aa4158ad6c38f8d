/**
 * The endpoint a pod exposes: Prometheus scrapes /metrics, the kubelet probes /healthz and /ready. It comes up with
 * start(), reports what the app did, and is gone after close().
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, produceNumbered } from '../runtime/support.ts'

const RECORDS = 2_000

/** The value of one series in Prometheus text, e.g. `series(text, 'x_total{stage="processing"}')`. */
function series(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

test('/metrics, /healthz and /ready follow the app from start to close', async () => {
  const input = uniqueName('metrics-in')
  const output = uniqueName('metrics-out')
  await createTopics([
    { name: input, partitions: 3 },
    { name: output, partitions: 3 }
  ])
  await produceNumbered(input, RECORDS)
  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .mapValues((value) => value.toUpperCase())
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
  const app = new StreamlaneApp(builder.build(), {
    applicationId: uniqueName('metrics-app'),
    bootstrapServers: testBrokers(),
    commitIntervalMs: 200,
    metricsPort: 0,
    metricsHost: '127.0.0.1',
    metricsPartitionSeries: 10
  })
  assert.equal(app.httpPort(), undefined, 'no endpoint before start()')
  await app.start()
  const port = app.httpPort()
  assert.ok(port !== undefined && port > 0, `bound port ${port}`)
  const url = (path: string) => `http://127.0.0.1:${port}${path}`
  try {
    await waitFor(`${RECORDS} records processed and committed`, () => app.progress().committed === RECORDS)
    const response = await fetch(url('/metrics'))
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/)
    const text = await response.text()
    assert.equal(series(text, 'streamlane_task_records_processed_total'), RECORDS)
    assert.equal(series(text, 'streamlane_app_records_committed_total'), RECORDS)
    assert.equal(series(text, 'streamlane_app_state{state="RUNNING"}'), 1)
    assert.equal(series(text, 'streamlane_app_state{state="REBALANCING"}'), 0)
    assert.equal(series(text, 'streamlane_app_active_tasks'), 3)
    assert.equal(series(text, 'streamlane_app_rebalances_total{cause="join"}'), 1, 'the initial join is a rebalance')
    assert.equal(series(text, 'streamlane_app_rebalance_duration_seconds_count'), 1)
    assert.match(
      text,
      /^streamlane_app_info\{application_id="metrics-app-[^"]+",version="0\.1\.0",topology_hash="[0-9a-f]{12}"\} 1$/m
    )
    // Every input record went through the one sink, each acknowledged once; nothing is left to read.
    assert.equal(series(text, 'streamlane_task_record_e2e_latency_seconds_count'), RECORDS)
    assert.equal(series(text, 'streamlane_producer_records_sent_total'), RECORDS)
    assert.equal(series(text, 'streamlane_producer_send_errors_total'), 0)
    assert.equal(series(text, 'streamlane_producer_unacknowledged_records'), 0)
    assert.ok((series(text, 'streamlane_thread_polled_records_total') ?? 0) >= RECORDS)
    assert.ok((series(text, 'streamlane_thread_process_duration_seconds_count') ?? 0) >= 1)
    assert.equal(series(text, 'streamlane_consumer_records_lag_max'), 0)
    assert.equal(series(text, 'streamlane_consumer_records_lag_sum'), 0)
    for (const partition of [0, 1, 2])
      assert.equal(
        series(
          text,
          `streamlane_consumer_records_lag{task="0_${partition}",topic="${input}",partition="${partition}"}`
        ),
        0
      )
    assert.ok((series(text, 'streamlane_app_commit_duration_seconds_count') ?? 0) >= 1, 'commits are timed')
    assert.equal(series(text, 'streamlane_task_records_skipped_total{stage="deserialization"}'), 0)
    assert.match(text, /^process_cpu_seconds_total /m)
    assert.equal(
      series(await app.metrics().metrics(), 'streamlane_task_records_processed_total'),
      RECORDS,
      'app.metrics() is the registry the endpoint serves'
    )

    const ready = await fetch(url('/ready'))
    assert.equal(ready.status, 200)
    assert.deepEqual(await ready.json(), { status: 'ready', state: 'RUNNING' })
    assert.equal((await fetch(url('/healthz'))).status, 200)
  } finally {
    await app.close()
  }
  assert.equal(app.state, 'NOT_RUNNING')
  await assert.rejects(fetch(url('/healthz')), 'nothing listens after close()')
})
