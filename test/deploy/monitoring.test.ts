/**
 * The chart's Prometheus Operator objects and Grafana dashboard (metrics.serviceMonitor, .prometheusRule,
 * .grafanaDashboard): rendered by the real helm, they scrape the ports the Services really have, with the token and
 * scheme the endpoints require, carry exactly the alert rules promtool checks and the dashboard file, and the
 * rendered PrometheusRule passes `promtool check rules` itself.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse, stringify } from 'yaml'
import { chartDir } from '../../scripts/deploy/helm.ts'
import { promtool } from './support/promtool.ts'
import { namespace, render } from './support/render.ts'

const monitoring = {
  metrics: {
    serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'kube-prometheus-stack' } },
    prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
    grafanaDashboard: { enabled: true }
  }
}

test('defaults render no monitoring objects (their CRDs may not be installed)', async () => {
  const rendered = await render()
  for (const kind of ['ServiceMonitor', 'PrometheusRule', 'ConfigMap'])
    assert.ok(!rendered.kinds().includes(kind), `${kind} rendered by default`)
})

test('ServiceMonitors scrape /metrics on the port each Service exposes, for the app and the scaler', async () => {
  const rendered = await render(monitoring)
  const monitors = rendered.objects.filter((o) => o.kind === 'ServiceMonitor')
  assert.deepEqual(monitors.map((m) => m.metadata.name).sort(), ['orders-streamlane', 'orders-streamlane-scaler'])
  const services = rendered.objects.filter((o) => o.kind === 'Service')
  for (const monitor of monitors) {
    assert.equal(monitor.metadata.labels?.release, 'kube-prometheus-stack')
    assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: [namespace] })
    const selected = services.filter((s) =>
      Object.entries(monitor.spec.selector.matchLabels as Record<string, string>).every(
        ([k, v]) => s.metadata.labels?.[k] === v
      )
    )
    assert.equal(selected.length, 1, `${monitor.metadata.name} selects one Service`)
    const [endpoint] = monitor.spec.endpoints
    assert.equal(monitor.spec.endpoints.length, 1)
    assert.ok(
      selected[0]!.spec.ports.some((p: { name: string }) => p.name === endpoint.port),
      `${monitor.metadata.name}: port ${endpoint.port} on ${selected[0]!.metadata.name}`
    )
    assert.deepEqual(
      { path: endpoint.path, interval: endpoint.interval, scheme: endpoint.scheme },
      { path: '/metrics', interval: '15s', scheme: 'http' }
    )
    assert.equal(endpoint.authorization, undefined)
  }
  const app = rendered.one('ServiceMonitor', 'orders-streamlane')
  assert.equal(app.spec.selector.matchLabels['app.kubernetes.io/component'], 'app')
  assert.equal(rendered.one('Service', '-headless').spec.ports[0].name, app.spec.endpoints[0].port)

  const noScaler = await render({ ...monitoring, scaler: { enabled: false }, autoscaling: { enabled: false } })
  assert.deepEqual(
    noScaler.objects.filter((o) => o.kind === 'ServiceMonitor').map((m) => m.metadata.name),
    ['orders-streamlane']
  )
})

test('ServiceMonitors send the metrics tokens and scrape over HTTPS where the endpoints use TLS', async () => {
  const tlsConfig = { ca: { secret: { name: 'metrics-ca', key: 'ca.crt' } }, serverName: 'orders.shop.svc' }
  const rendered = await render({
    metrics: { serviceMonitor: { enabled: true, tlsConfig } },
    app: { metricsTokenSecret: { name: 'metrics-token', key: 'tokens' }, metricsTlsSecret: 'metrics-tls' },
    scaler: { metricsTokenSecret: { name: 'scaler-metrics-token', key: 'token' } }
  })
  const app = rendered.one('ServiceMonitor', 'orders-streamlane').spec.endpoints[0]
  assert.equal(app.scheme, 'https')
  assert.deepEqual(app.tlsConfig, tlsConfig)
  assert.deepEqual(app.authorization, { type: 'Bearer', credentials: { name: 'metrics-token', key: 'tokens' } })
  const scaler = rendered.one('ServiceMonitor', '-scaler').spec.endpoints[0]
  assert.equal(scaler.scheme, 'http', 'the scaler has no TLS here')
  assert.equal(scaler.tlsConfig, undefined)
  assert.deepEqual(scaler.authorization, {
    type: 'Bearer',
    credentials: { name: 'scaler-metrics-token', key: 'token' }
  })
})

test('PrometheusRule carries the rules of files/streamlane-alerts.yaml, and promtool accepts it as rendered', async () => {
  const rendered = await render(monitoring)
  const rule = rendered.one('PrometheusRule')
  assert.equal(rule.metadata.labels?.release, 'kube-prometheus-stack')
  const file = parse(readFileSync(join(chartDir, 'files/streamlane-alerts.yaml'), 'utf8'))
  assert.deepEqual(rule.spec.groups, file.groups)
  const dir = mkdtempSync(join(tmpdir(), 'streamlane-rule-'))
  try {
    const rules = join(dir, 'rendered.yaml')
    writeFileSync(rules, stringify({ groups: rule.spec.groups }))
    const checked = await promtool(['check', 'rules', rules])
    assert.equal(checked.code, 0, checked.stdout + checked.stderr)
    assert.match(checked.stdout, /SUCCESS: 7 rules found/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the dashboard ConfigMap holds files/streamlane-dashboard.json with the Grafana sidecar label', async () => {
  const rendered = await render(monitoring)
  const map = rendered.one('ConfigMap', '-dashboard')
  assert.equal(map.metadata.labels?.grafana_dashboard, '1')
  assert.equal(
    map.data?.['streamlane-dashboard.json'],
    readFileSync(join(chartDir, 'files/streamlane-dashboard.json'), 'utf8')
  )
})
