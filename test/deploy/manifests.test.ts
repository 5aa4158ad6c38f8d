import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { manifestsDir, staleManifests } from '../../scripts/deploy/render-manifests.ts'
import { decodeStrictly, validateObject } from './support/kubernetes-schemas.ts'
import { parseObjects } from './support/render.ts'

test('deploy/manifests equal a fresh render of the chart (run `npm run manifests` after changing it)', async () => {
  assert.deepEqual(await staleManifests(), [])
})

test('deploy/manifests: every object listed by the kustomization matches its schema, no unknown field', async () => {
  const kustomization = readFileSync(join(manifestsDir, 'kustomization.yaml'), 'utf8')
  const files = [...kustomization.matchAll(/^ {2}- (\S+)$/gm)].map((m) => m[1]!)
  const kinds = files.flatMap((file) =>
    parseObjects(readFileSync(join(manifestsDir, file), 'utf8')).map((object) => {
      validateObject(object)
      return object.kind
    })
  )
  const strict = await decodeStrictly(
    files.map((file) => readFileSync(join(manifestsDir, file), 'utf8')).join('\n---\n')
  )
  assert.deepEqual(strict.errors, [])
  assert.deepEqual(strict.skipped, ['keda.sh/v1alpha1 ScaledObject word-count'])
  assert.deepEqual(kinds.sort(), [
    'Deployment',
    'PodDisruptionBudget',
    'ScaledObject',
    'Service',
    'Service',
    'StatefulSet'
  ])
})
