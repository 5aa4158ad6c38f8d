/**
 * The alert rules (deploy/helm/streamlane/files/streamlane-alerts.yaml) checked by Prometheus' own promtool: the file
 * loads (`promtool check rules`), each alert fires on the series it is about and stays quiet on a near miss
 * (`promtool test rules` with alerts/streamlane-alerts.test.yaml), and every metric the rules select is one the app
 * registers.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { chartDir } from '../../scripts/deploy/helm.ts'
import { APP_METRIC_NAMES } from '../../src/observe/metrics.ts'
import { promtool } from './support/promtool.ts'

const rulesFile = join(chartDir, 'files/streamlane-alerts.yaml')
const testsDir = join(import.meta.dirname, 'alerts')

interface Rule {
  alert: string
  expr: string
  labels: { severity: string }
  annotations: { summary: string; description: string }
}

const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules)

test('promtool check rules: the rule file loads', async () => {
  const result = await promtool(['check', 'rules', rulesFile])
  assert.equal(result.code, 0, result.stdout + result.stderr)
  assert.match(result.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`))
})

test('promtool test rules: every alert fires on its series and not on a near miss', async () => {
  const result = await promtool(['test', 'rules', 'streamlane-alerts.test.yaml'], testsDir)
  assert.equal(result.code, 0, result.stdout + result.stderr)
  const tested = new Set(
    [...readFileSync(join(testsDir, 'streamlane-alerts.test.yaml'), 'utf8').matchAll(/alertname: (\S+)/g)].map(
      (m) => m[1]
    )
  )
  assert.deepEqual(
    rules.map((r) => r.alert).filter((name) => !tested.has(name)),
    [],
    'alerts without a promtool test'
  )
})

test('the rules select only metrics the app registers, and each has a severity and a summary', () => {
  const histogramSeries = APP_METRIC_NAMES.flatMap((n) => [n, `${n}_bucket`, `${n}_sum`, `${n}_count`])
  const known = new Set(histogramSeries)
  for (const rule of rules) {
    const selected = [...rule.expr.matchAll(/\b(streamlane_[a-z0-9_]+)/g)].map((m) => m[1]!)
    assert.ok(selected.length > 0, `${rule.alert} selects a streamlane metric`)
    for (const name of selected) assert.ok(known.has(name), `${rule.alert}: ${name} is not a metric the app registers`)
    assert.ok(['warning', 'critical'].includes(rule.labels.severity), `${rule.alert}: severity`)
    assert.ok(rule.annotations.summary && rule.annotations.description, `${rule.alert}: annotations`)
  }
})
