import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { mayImport, shared } from '../../scripts/layer-map.ts'

/** The rows of docs/development.md's map: folder -> the folders its "may import" cell names. */
function documentedMap(): Map<string, string[]> {
  const docs = readFileSync(new URL('../../docs/development.md', import.meta.url), 'utf8')
  const section = docs.slice(docs.indexOf('## The map'), docs.indexOf('\n## ', docs.indexOf('## The map') + 1))
  const rows = new Map<string, string[]>()
  for (const [, folder, cell] of section.matchAll(/^\| `([a-z]+)\/` +\|[^|]*\| ([^|]*)\|$/gm)) {
    const named = [...cell!.matchAll(/`([a-z]+)\/`/g)].map((m) => m[1]!)
    const all = Object.keys(mayImport).filter((f) => f !== folder)
    rows.set(folder!, cell!.startsWith('everything above but') ? all.filter((f) => !named.includes(f)) : named)
  }
  return rows
}

test("docs/development.md's map and the dependency rules (.dependency-cruiser.mjs) are the same table", () => {
  const documented = documentedMap()
  assert.deepEqual([...documented.keys()].sort(), Object.keys(mayImport).sort())
  for (const [folder, allowed] of Object.entries(mayImport)) {
    assert.deepEqual([...documented.get(folder)!].sort(), [...allowed].sort(), `row of ${folder}/`)
  }
  const docs = readFileSync(new URL('../../docs/development.md', import.meta.url), 'utf8')
  for (const module of shared) assert.ok(docs.includes(`\`${module}.ts\``), `the shared ${module}.ts is named`)
})
