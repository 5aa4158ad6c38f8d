/**
 * The status page of a stateful app with a repartition, in a real browser (Debian's Chromium, headless) on the
 * broker: the topology graph has a box per node of /status's `topologyGraph`, the edges and the repartition link, and
 * the stores table shows the store's entries, restoration and sampled operation latency from /status.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import type { AppStatus } from '../../../src/observe/index.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import { launchBrowser } from '../../support/browser.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { createTopics, produceNumbered } from '../runtime/support.ts'

const RECORDS = 600

test('the status page draws the topology graph and shows the stores of /status', async () => {
  const input = uniqueName('graph-in')
  const output = uniqueName('graph-out')
  await createTopics([
    { name: input, partitions: 2 },
    { name: output, partitions: 2 }
  ])
  await produceNumbered(input, RECORDS)
  const builder = new StreamsBuilder()
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .groupBy((_key, value) => String(Number(value) % 10), {
      keySerde: Serdes.string(),
      valueSerde: Serdes.string()
    })
    .count({ storeName: 'counts' })
    .toStream()
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.long() })
  const stateDir = mkdtempSync(join(tmpdir(), 'streamlane-state-'))
  const app = new StreamlaneApp(builder.build(), {
    applicationId: uniqueName('graph-app'),
    bootstrapServers: testBrokers(),
    stateDir,
    commitIntervalMs: 200,
    metricsPort: 0
  })
  const browser = await launchBrowser()
  try {
    await app.start()
    const base = `http://127.0.0.1:${app.httpPort()}`
    // Every input record counted: the repartitioned records too (the count store holds 10 keys then).
    await waitFor('every record counted', async () => {
      const s = (await (await fetch(`${base}/status`)).json()) as AppStatus
      return s.stores.find((st) => st.store === 'counts')?.entries === 10 && s.totals.processed === 2 * RECORDS
    })
    const json = (await (await fetch(`${base}/status`)).json()) as AppStatus
    const graph = json.topologyGraph
    assert.equal(graph.subtopologies.length, 2)
    assert.equal(graph.links.length, 1)

    const page = await browser.context.newPage()
    const consoleErrors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    await page.goto(`${base}/status/page?refresh=300`)
    const nodes = page.locator('#topology-graph g.node')
    await waitFor('the graph is drawn', async () => (await nodes.count()) === graph.nodes.length)
    for (const node of graph.nodes) {
      const box = page.locator(`#topology-graph g.node-${node.kind}[data-node="${node.name}"]`)
      assert.equal(await box.count(), 1, `${node.kind} ${node.name}`)
      for (const detail of [...node.topics, ...node.stores])
        assert.match(
          (await box.locator('title').textContent()) ?? '',
          new RegExp(detail.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        )
    }
    assert.equal(await page.locator('#topology-graph path:not(.link)').count(), graph.edges.length + 1, 'edges + arrow')
    const link = page.locator('#topology-graph path.link')
    assert.equal(await link.count(), 1)
    assert.equal(await link.getAttribute('data-topic'), graph.links[0]!.topic)

    const store = json.stores.find((s) => s.store === 'counts')!
    const row = page.locator('#stores tr[data-store="counts"]')
    await waitFor('the stores row', async () => (await row.count()) === 1)
    assert.equal(await row.locator('td.entries').textContent(), '10')
    assert.equal(await row.locator('td.restored').textContent(), String(store.restored))
    assert.equal(await row.locator('td.restore-left').textContent(), '0')
    // The count store was read and written (estimated from 1 in 16 timed calls): a mean latency in microseconds.
    assert.ok(store.operations !== null && store.operations.get.count > 0 && store.operations.put.count > 0)
    for (const cell of ['get-micros', 'put-micros'])
      assert.match((await row.locator(`td.${cell}`).textContent()) ?? '', /^\d+\.\d$/, cell)

    const screenshots = process.env.STREAMLANE_SCREENSHOT_DIR
    if (screenshots) {
      mkdirSync(screenshots, { recursive: true })
      await page.screenshot({ path: join(screenshots, 'status-page-topology.png'), fullPage: true })
    }
    assert.deepEqual(consoleErrors, [], 'no script errors on the page')
  } finally {
    await browser.close()
    await app.close()
    rmSync(stateDir, { recursive: true, force: true })
  }
})
