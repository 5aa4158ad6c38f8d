/**
 * The live status page in a real browser (Debian's Chromium, headless) against an app on the broker: the page shows
 * the app's tasks and the numbers `/status` gives, and they move as records flow. The page is open; the data behind
 * it needs the same bearer token as /metrics, which the page takes from the address's fragment.
 */
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import type { AppStatus } from '../../../src/observe/index.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { launchBrowser } from '../../support/browser.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, produceNumbered } from '../runtime/support.ts'

const TOKEN = 'status-page-test-token'
const FIRST = 1_200
const SECOND = 900

/** The page's numbers are formatted en-US (`1,200`); `–` when unknown. */
function parseShown(text: string | null): number | undefined {
  if (text === null || text.trim() === '–') return undefined
  return Number(text.replaceAll(',', ''))
}

test('the status page shows the tasks and the numbers of /status, and follows records as they flow', async () => {
  const input = uniqueName('status-in')
  const output = uniqueName('status-out')
  await createTopics([
    { name: input, partitions: 3 },
    { name: output, partitions: 3 }
  ])
  await produceNumbered(input, FIRST)
  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .mapValues((value) => `seen ${value}`)
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
  const app = new StreamlaneApp(builder.build(), {
    applicationId: uniqueName('status-app'),
    bootstrapServers: testBrokers(),
    commitIntervalMs: 200,
    metricsPort: 0,
    metricsToken: TOKEN
  })
  await app.start()
  const base = `http://127.0.0.1:${app.httpPort()}`
  const status = async (): Promise<AppStatus> => {
    const response = await fetch(`${base}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(response.status, 200)
    return (await response.json()) as AppStatus
  }
  const browser = await launchBrowser()
  try {
    assert.equal((await fetch(`${base}/status`)).status, 401, '/status needs the token, as /metrics does')
    const pageResponse = await fetch(`${base}/status/page`)
    assert.equal(pageResponse.status, 200, 'the page itself holds no data')
    assert.match(pageResponse.headers.get('content-type') ?? '', /^text\/html/)

    await waitFor(`${FIRST} records committed`, () => app.progress().committed === FIRST)
    const page = await browser.context.newPage()
    const consoleErrors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    await page.goto(`${base}/status/page?refresh=250#token=${TOKEN}`)
    assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar')

    const shown = async (selector: string) => parseShown(await page.locator(selector).first().textContent())
    await waitFor('the page shows every record processed', async () => (await shown('#total-processed')) === FIRST)
    assert.equal(await page.locator('#state').textContent(), 'RUNNING')
    assert.equal(await page.locator('#app-id').textContent(), app.config.applicationId)

    const json = await status()
    const taskIds = json.tasks.map((t) => t.id)
    assert.deepEqual(taskIds, ['0_0', '0_1', '0_2'])
    assert.equal(json.totals.processed, FIRST)
    assert.equal(json.lag.max, 0)
    for (const task of json.tasks) {
      const row = page.locator(`#tasks tr[data-task="${task.id}"]`)
      assert.equal(await row.locator('td.kind').textContent(), 'active')
      assert.equal(parseShown(await row.locator('td.processed').textContent()), task.processed)
      assert.match((await row.locator('td.partitions').textContent()) ?? '', new RegExp(`${input}-\\d \\(0\\)`))
    }
    assert.equal(await shown('#lag-max'), 0)
    assert.match((await page.locator('#rebalances tbody').textContent()) ?? '', /join/)
    assert.match((await page.locator('#topology').textContent()) ?? '', new RegExp(`topics: \\[${input}\\]`))

    // More records: the page's totals and per-task counts follow what the app reports.
    await produceNumbered(input, SECOND)
    await waitFor(
      'the page shows the new records processed',
      async () => (await shown('#total-processed')) === FIRST + SECOND
    )
    let perTask = 0
    for (const id of taskIds)
      perTask += parseShown(await page.locator(`#tasks tr[data-task="${id}"] td.processed`).textContent()) ?? 0
    assert.equal(perTask, FIRST + SECOND)
    assert.equal((await status()).totals.processed, FIRST + SECOND)

    const screenshots = process.env.STREAMLANE_SCREENSHOT_DIR
    if (screenshots) {
      mkdirSync(screenshots, { recursive: true })
      await page.screenshot({ path: join(screenshots, 'status-page.png'), fullPage: true })
    }
    assert.deepEqual(consoleErrors, [], 'no script errors on the page')
  } finally {
    await browser.close()
    await app.close()
  }
})
