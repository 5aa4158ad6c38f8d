import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ERROR_CODES } from '../../src/error-codes.ts'

test('docs/errors.md documents exactly the closed list of error codes, each once', () => {
  const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  const documented = [...docs.matchAll(/^\| `(STREAMLANE_[A-Z0-9_]+)` *\|/gm)].map((match) => match[1])
  assert.deepEqual([...documented].sort(), [...ERROR_CODES].sort())
  assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length)
})
