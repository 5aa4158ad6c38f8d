import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { APP_METRIC_NAMES } from '../../../src/observe/metrics.ts'
import { QUERY_METRIC_NAME } from '../../../src/observe/query-metrics.ts'

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
