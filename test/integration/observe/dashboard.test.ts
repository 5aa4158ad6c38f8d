/**
 * The Grafana dashboard (deploy/helm/streamlane/files/streamlane-dashboard.json) queries only metrics an app really serves: every
 * metric name in every panel's PromQL is checked against the /metrics text of an app running on the broker.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { createTopics } from '../runtime/support.ts'

interface Panel {
  id: number
  type: string
  title: string
  targets?: { expr: string }[]
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../../deploy/helm/streamlane/files/streamlane-dashboard.json', import.meta.url), 'utf8')
) as { uid: string; panels: Panel[]; templating: { list: { name: string }[] } }

/** Series names /metrics serves: each `# TYPE` name, and a histogram's `_bucket`, `_sum` and `_count` series. */
function servedNames(text: string): Set<string> {
  const names = new Set<string>()
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!)
    if (type === 'histogram' || type === 'summary')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`)
  }
  return names
}

/** The metric names a PromQL expression selects: every name in front of a label matcher (`name{...}`). */
function selectedNames(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1]!)
}

test('the dashboard is well formed and every panel queries metrics the app serves', async () => {
  const ids = dashboard.panels.map((p) => p.id)
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique')
  assert.deepEqual(
    dashboard.templating.list.map((v) => v.name),
    ['datasource', 'job']
  )
  const queries = dashboard.panels.filter((p) => p.type !== 'row')
  assert.ok(queries.length >= 20, `${queries.length} panels`)

  const input = uniqueName('dashboard-in')
  await createTopics([{ name: input, partitions: 1 }])
  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .groupByKey()
    .count({ storeName: 'counts' })
  const app = new StreamlaneApp(builder.build(), {
    applicationId: uniqueName('dashboard-app'),
    bootstrapServers: testBrokers(),
    metricsPort: 0
  })
  await app.start()
  let text: string
  try {
    const response = await fetch(`http://127.0.0.1:${app.httpPort()}/metrics`)
    assert.equal(response.status, 200)
    text = await response.text()
  } finally {
    await app.close()
  }
  const served = servedNames(text)
  const missing: string[] = []
  for (const panel of queries) {
    assert.ok(panel.targets && panel.targets.length > 0, `panel ${panel.title} has queries`)
    for (const { expr } of panel.targets) {
      const names = selectedNames(expr)
      assert.ok(names.length > 0, `panel ${panel.title}: ${expr} selects a metric`)
      for (const name of names) if (!served.has(name)) missing.push(`${panel.title}: ${name}`)
    }
  }
  assert.deepEqual(missing, [], 'metrics the dashboard queries that /metrics does not serve')
})
