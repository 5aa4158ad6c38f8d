import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { APP_METRIC_NAMES } from '../../../src/observe/metrics.ts'
import { QUERY_METRIC_NAME } from '../../../src/observe/query-metrics.ts'
import { createShareGroupMetrics, SHARE_GROUP_METRIC_NAMES } from '../../../src/observe/share-group-metrics.ts'

const reference = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8')

test('docs/metrics.md describes every metric the app registers, in a table row of its own', () => {
  for (const name of [...APP_METRIC_NAMES, QUERY_METRIC_NAME])
    assert.match(reference, new RegExp(`^\\| \`${name}\` +\\|`, 'm'), name)
})

test('docs/metrics.md names no streamlane_ metric the app does not register', () => {
  // The query endpoint registers its counter only where queries are served.
  const known = new Set<string>([...APP_METRIC_NAMES, QUERY_METRIC_NAME])
  const mentioned = new Set([...reference.matchAll(/\bstreamlane_[a-z0-9_]+/g)].map((m) => m[0]))
  const strip = (name: string) => name.replace(/_(bucket|sum|count)$/, '')
  const unknown = [...mentioned].filter((name) => !known.has(name) && !known.has(strip(name)))
  assert.deepEqual(unknown, [])
})

test('docs/share-groups.md describes every metric a share-group app registers, and the registry has them all', async () => {
  const shareGroups = readFileSync(new URL('../../../docs/share-groups.md', import.meta.url), 'utf8')
  for (const name of SHARE_GROUP_METRIC_NAMES) assert.match(shareGroups, new RegExp(`^\\| \`${name}[\`{]`, 'm'), name)
  const counters = {
    delivered: 0,
    redelivered: 0,
    accepted: 0,
    released: 0,
    rejected: 0,
    deadLettered: 0,
    renewed: 0,
    renewFailed: 0
  }
  const registry = createShareGroupMetrics({
    applicationId: 'app',
    counters: () => counters,
    inFlight: () => 0,
    concurrency: 1,
    assignedPartitions: () => 0
  })
  const registered = new Set((await registry.getMetricsAsJSON()).map((metric) => metric.name))
  for (const name of SHARE_GROUP_METRIC_NAMES) assert.ok(registered.has(name), name)
})
