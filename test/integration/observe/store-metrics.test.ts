/**
 * The state metrics of a running app on the broker: a cached, persistent count store reports its entries, every read
 * its record cache answered or missed, and its sampled put/get latency with estimated counts; the lag is 0 once
 * everything is processed; a restart on an empty volume reports the store's restoration by store.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { test } from 'node:test'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { COUNT_KEYS, COUNT_PARTITIONS, produceRound, runUntilCounts, setUpCountApp } from '../runtime/count-app.ts'
import { countTopology } from '../runtime/fixtures/count-topology.ts'
import { topicEnd } from '../runtime/support.ts'

/** One store operation in this many is timed and counted that many times (src/observe/store-operation-metrics.ts). */
const SAMPLE_EVERY = 16

function series(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

test('store entries, cache hits and misses, and lag after a known input', async () => {
  const setup = await setUpCountApp('store-metrics')
  const app = new StreamlaneApp(countTopology(setup.input, setup.output), {
    applicationId: setup.appId,
    bootstrapServers: testBrokers(),
    stateDir: setup.stateDir,
    commitIntervalMs: 200,
    cacheMaxBytes: 10_000_000
  })
  try {
    await produceRound(setup.input, 3)
    await runUntilCounts(app, setup.output, 3)
    const text = await app.metrics().metrics()
    assert.equal(series(text, 'streamlane_task_records_processed_total'), 3 * COUNT_KEYS)
    assert.equal(series(text, 'streamlane_state_store_entries{store="counts"}'), COUNT_KEYS)
    // One read per record: the first of each key misses the cache, the count it put there answers the next ones.
    const hits = series(text, 'streamlane_state_cache_hits_total{store="counts"}') ?? 0
    const misses = series(text, 'streamlane_state_cache_misses_total{store="counts"}') ?? 0
    assert.equal(hits + misses, 3 * COUNT_KEYS)
    assert.ok(misses >= COUNT_KEYS, `${misses} misses: at least one per key`)
    assert.ok(hits > 0)
    // The count processor gets and puts once per record; each task's store counts 16 for every 16th, so the estimate
    // is below the truth by less than 16 per task.
    for (const operation of ['get', 'put']) {
      const name = `streamlane_state_store_operation_duration_seconds_count{store="counts",operation="${operation}"}`
      const estimated = series(text, name) ?? 0
      assert.equal(estimated % SAMPLE_EVERY, 0, `${operation}: ${estimated}`)
      assert.ok(
        estimated <= 3 * COUNT_KEYS && estimated > 3 * COUNT_KEYS - SAMPLE_EVERY * COUNT_PARTITIONS,
        `${operation}: ${estimated} of ${3 * COUNT_KEYS}`
      )
      assert.ok((series(text, name.replace('_count{', '_sum{')) ?? 0) > 0, `${operation}: seconds summed`)
    }
    assert.equal(series(text, 'streamlane_state_restoring_tasks'), 0)
    assert.equal(series(text, 'streamlane_consumer_records_lag_max'), 0)
    await waitFor('every output and changelog record acknowledged', async () => {
      const now = await app.metrics().metrics()
      return series(now, 'streamlane_producer_unacknowledged_records') === 0
    })
  } finally {
    await app.close()
    rmSync(setup.stateDir, { recursive: true, force: true })
    await setup.close()
  }
})

test('restoration by store: a restart on an empty volume restores the whole changelog, reported for its store', async () => {
  const setup = await setUpCountApp('store-restore')
  try {
    const first = setup.app(setup.stateDir)
    try {
      await produceRound(setup.input, 2)
      await runUntilCounts(first, setup.output, 2)
    } finally {
      await first.close()
    }
    const changelogRecords = await topicEnd(setup.admin, setup.changelog)
    assert.equal(changelogRecords, 2 * COUNT_KEYS, 'no cache: one changelog record per count update')

    const restarted = setup.app(setup.emptyStateDir)
    try {
      await restarted.start()
      await waitFor('restored and running', () => restarted.state === 'RUNNING')
      const text = await restarted.metrics().metrics()
      assert.equal(series(text, 'streamlane_state_store_restored_records_total{store="counts"}'), changelogRecords)
      assert.equal(series(text, 'streamlane_state_store_restore_remaining_records{store="counts"}'), 0)
      assert.equal(series(text, 'streamlane_state_restore_records_total'), changelogRecords)
      assert.equal(series(text, 'streamlane_state_store_entries{store="counts"}'), COUNT_KEYS)
      const status = restarted.status()
      const store = status.stores.find((s) => s.store === 'counts')
      assert.ok(store, 'the status report lists the store')
      assert.equal(store.restored, changelogRecords)
      assert.equal(store.restoreRemaining, 0)
    } finally {
      await restarted.close()
    }
  } finally {
    await setup.close()
  }
})
