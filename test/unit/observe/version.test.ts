import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { STREAMLANE_VERSION } from '../../../src/observe/version.ts'

test('streamlane_app_info reports the version package.json says', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.equal(STREAMLANE_VERSION, pkg.version)
})
