/**
 * The scaler's status page in a real browser (Debian's Chromium, headless) against the scaler on the broker: it asks
 * for a group whose lag is known, then grows the lag between evaluations; the page draws one chart series point per
 * evaluation of /status, shows the last decision's numbers and lists the decisions with their reasons.
 */
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type RunningScaler, startScaler } from '../../../src/autoscale/keda/start.ts'
import type { ScalerStatus } from '../../../src/autoscale/metrics-api/status-routes.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { launchBrowser } from '../../support/browser.ts'
import { waitFor } from '../../support/wait.ts'
import { type KnownLag, setUpKnownLag } from './fixtures/known-lag.ts'

const TOKEN = 'scaler-page-token'
const EVALUATIONS = 6
/** Records added to partition 0 before each evaluation after the first. */
const MORE = 200

let known: KnownLag
let scaler: RunningScaler
let base: string

before(async () => {
  known = await setUpKnownLag('scaler-page')
  scaler = await startScaler({
    host: '127.0.0.1',
    grpcPort: null,
    httpPort: 0,
    defaultBrokers: known.brokers,
    readTokens: [{ token: TOKEN }],
    requestTimeoutMs: 3_000,
    connectTimeoutMs: 1_000
  })
  base = `http://127.0.0.1:${scaler.httpPort}`
})

after(async () => {
  await scaler?.close()
  await known?.close()
})

async function status(): Promise<ScalerStatus> {
  const response = await fetch(`${base}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })
  assert.equal(response.status, 200)
  return (await response.json()) as ScalerStatus
}

/** Asks the scaler as KEDA's metrics-api trigger would, until it has made `count` evaluations of the group. */
async function evaluateUntil(count: number): Promise<void> {
  const query = `/metrics/${known.groups.busy}?topics=${known.topic}&minReplicas=1&maxReplicas=6&lagDrainTargetSeconds=1&rateWindowSeconds=4`
  await waitFor(`${count} evaluations`, async () => {
    const response = await fetch(`${base}${query}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(response.status, 200, await response.text())
    return ((await status()).objects[0]?.points.length ?? 0) >= count
  })
}

test('the scaler page charts every evaluation of /status and lists the decisions with their reasons', async () => {
  const producer = createProducer({ brokers: known.brokers })
  try {
    await evaluateUntil(1)
    for (let i = 2; i <= EVALUATIONS; i++) {
      await producer.send(
        Array.from({ length: MORE }, (_, n) => ({ topic: known.topic, partition: 0, value: Buffer.from(`more-${n}`) }))
      )
      await evaluateUntil(i)
    }
  } finally {
    await producer.close()
  }
  const json = await status()
  assert.equal(json.objects.length, 1)
  const [object] = json.objects
  assert.equal(object!.group, known.groups.busy)
  assert.equal(object!.key, `metrics-api/${known.groups.busy}`)
  const points = object!.points
  assert.equal(points.length, EVALUATIONS)
  assert.deepEqual(
    points.map((p) => p.lag),
    Array.from({ length: EVALUATIONS }, (_, i) => known.lag.busy + i * MORE)
  )
  const last = points.at(-1)!

  const pageResponse = await fetch(`${base}/status/page`)
  assert.equal(pageResponse.status, 200, 'the page itself holds no data')
  const browser = await launchBrowser()
  try {
    const page = await browser.context.newPage()
    const consoleErrors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    await page.goto(`${base}/status/page?refresh=300#token=${TOKEN}`)
    const section = page.locator(`section[data-object="${object!.key}"]`)
    await waitFor('the page shows the group', async () => (await section.count()) === 1)
    assert.equal((await section.locator('.value.lag').textContent())?.replaceAll(',', ''), String(last.lag))
    assert.equal(await section.locator('.value.replicas').textContent(), String(last.replicas))
    assert.equal(await section.locator('.reason').first().textContent(), `now: ${last.reason}`)
    // One point per evaluation in the lag, arrival and replicas series (rates are measured from the second one on).
    for (const series of ['lag', 'replicas', 'members']) {
      const line = section.locator(`polyline[data-series="${series}"]`)
      assert.equal(await line.getAttribute('data-values'), String(EVALUATIONS), series)
    }
    const arrivals = points.filter((p) => p.arrivalRate !== null).length
    assert.equal(
      await section.locator('polyline[data-series="arrivalRate"]').getAttribute('data-values'),
      String(arrivals)
    )
    // The decisions table: the evaluations that changed the replica count, newest first, each with its reason.
    const changes = points.filter((p, i) => i === 0 || p.replicas !== points[i - 1]!.replicas).reverse()
    const rows = section.locator('table.decisions tbody tr')
    assert.equal(await rows.count(), changes.length)
    for (let i = 0; i < changes.length; i++) {
      assert.equal(await rows.nth(i).locator('td.reason').textContent(), changes[i]!.reason)
      assert.equal(await rows.nth(i).locator('td.replicas').textContent(), String(changes[i]!.replicas))
    }
    const screenshots = process.env.STREAMLANE_SCREENSHOT_DIR
    if (screenshots) {
      mkdirSync(screenshots, { recursive: true })
      await page.screenshot({ path: join(screenshots, 'scaler-status-page.png'), fullPage: true })
    }
    assert.deepEqual(consoleErrors, [], 'no script errors on the page')
  } finally {
    await browser.close()
  }
})
