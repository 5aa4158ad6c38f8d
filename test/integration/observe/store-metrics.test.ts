/**
 * The state metrics of a running app on the broker: a cached, persistent count store reports its entries and every
 * read its record cache answered or missed, and the lag is 0 once everything is processed.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { test } from 'node:test'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { COUNT_KEYS, produceRound, runUntilCounts, setUpCountApp } from '../runtime/count-app.ts'
import { countTopology } from '../runtime/fixtures/count-topology.ts'

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
