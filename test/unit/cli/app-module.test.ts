/**
 * The CLI and an app module may load different copies of Streamlane (the installed package, dist/, src/): here the
 * second copy is src/ copied to a temporary directory, with its own classes, next to a link to node_modules.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { loadAppModule } from '../../../src/cli/app-module.ts'
import { isTopology, Topology } from '../../../src/topology/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'streamlane-app-module-'))
cpSync(new URL('../../../src', import.meta.url), join(dir, 'src'), { recursive: true })
symlinkSync(new URL('../../../node_modules', import.meta.url), join(dir, 'node_modules'))
const otherCopy = pathToFileURL(join(dir, 'src/index.ts')).href
after(() => rmSync(dir, { recursive: true, force: true }))

test('isTopology recognizes a topology of another copy of Streamlane, where instanceof does not', async () => {
  const copy = (await import(otherCopy)) as {
    StreamsBuilder: new () => { stream(t: string): unknown; build(): unknown }
  }
  const builder = new copy.StreamsBuilder()
  builder.stream('in')
  const foreign = builder.build()
  assert.equal(foreign instanceof Topology, false)
  assert.equal(isTopology(foreign), true)
  assert.equal(isTopology(new Topology()), true)
  assert.equal(isTopology({ describe() {} }), false)
  assert.equal(isTopology(null), false)
})

test('the CLI loads an app module whose topology comes from another copy of Streamlane', async () => {
  const module = join(dir, 'app.ts')
  writeFileSync(
    module,
    `import { defineApp, StreamsBuilder } from '${otherCopy}'
const builder = new StreamsBuilder()
builder.stream('in').to('out')
export default defineApp({ topology: builder.build(), config: { applicationId: 'copy-app' } })
`
  )
  const { topology } = await loadAppModule(module, { withConfig: false })
  assert.match(topology.describe().toString(), /Source: .* \(topics: \[in\]\)/)
})

test('an app module whose topology is not one names the module and what to export', async () => {
  const module = join(dir, 'not-a-topology.ts')
  writeFileSync(module, `export default { topology: { describe() {} } }\n`)
  await assert.rejects(loadAppModule(module, { withConfig: false }), /not-a-topology\.ts: topology must be a Topology/)
})
