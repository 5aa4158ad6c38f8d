/**
 * `npm run manifests`: renders deploy/helm/streamlane with deploy/manifests/values.yaml into plain manifests for
 * kubectl and kustomize users (one file per template plus a kustomization.yaml). test/deploy/manifests.test.ts
 * checks that the committed files equal a fresh render, so they never drift from the chart.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../kafka/broker.ts'
import { chartDir, helm } from './helm.ts'

export const manifestsDir = join(repoRoot, 'deploy/manifests')
/** The example's values; the release name and namespace are fixed so the render is reproducible. */
const valuesFile = join(manifestsDir, 'values.yaml')
const release = 'word-count'
const namespace = 'streamlane'
/** Files in deploy/manifests that the render does not write. */
export const handWritten = new Set(['values.yaml', 'README.md'])

const header = (what: string) =>
  `# ${what}, rendered with deploy/manifests/values.yaml by \`npm run manifests\`:\n` +
  '# edit the chart or the values, not this file.\n'

/** File name -> content, as `npm run manifests` writes them. */
export async function renderManifests(): Promise<Map<string, string>> {
  const result = await helm(['template', release, chartDir, '--namespace', namespace, '--values', valuesFile])
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`)
  const files = new Map<string, string>()
  // helm prints each object after a `# Source: <chart>/templates/<file>` line; one file per template.
  for (const document of result.stdout.split(/^---\n/m)) {
    const source = /^# Source: streamlane\/(templates\/(\S+))$/m.exec(document)
    if (!source) continue
    const body = document.replace(/^# Source: .*\n/m, '').trimEnd()
    const file = source[2]!
    files.set(file, `${files.get(file) ?? header(`From deploy/helm/streamlane/${source[1]}`)}---\n${body}\n`)
  }
  const resources = [...files.keys()].sort()
  files.set(
    'kustomization.yaml',
    `${header('The objects of deploy/helm/streamlane')}apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n` +
      resources.map((file) => `  - ${file}\n`).join('')
  )
  return files
}

/** Files in deploy/manifests that differ from a fresh render, are missing, or are left over. */
export async function staleManifests(): Promise<string[]> {
  const expected = await renderManifests()
  const stale: string[] = []
  for (const [file, content] of expected) {
    let current: string | undefined
    try {
      current = readFileSync(join(manifestsDir, file), 'utf8')
    } catch {}
    if (current !== content) stale.push(file)
  }
  for (const file of readdirSync(manifestsDir)) {
    if (!expected.has(file) && !handWritten.has(file)) stale.push(file)
  }
  return stale.sort()
}

if (import.meta.main) {
  const files = await renderManifests()
  for (const file of readdirSync(manifestsDir)) {
    if (!files.has(file) && !handWritten.has(file)) rmSync(join(manifestsDir, file))
  }
  for (const [file, content] of files) writeFileSync(join(manifestsDir, file), content)
  console.log(`wrote ${[...files.keys()].join(', ')} to deploy/manifests`)
}
