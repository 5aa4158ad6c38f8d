import assert from 'node:assert/strict'
import { test } from 'node:test'
import { stripsTypesByDefault, typeScriptModuleProblem } from '../../../src/cli/typescript-support.ts'

test('Node strips types by default from 22.18 on 22.x, from 23.6 on 23.x, and on every later major', () => {
  for (const version of ['v22.18.0', 'v22.22.1', 'v23.6.0', 'v24.0.0', 'v25.2.1']) {
    assert.equal(stripsTypesByDefault(version), true, version)
  }
  for (const version of ['v20.19.2', 'v22.17.1', 'v23.5.0', 'v18.20.0']) {
    assert.equal(stripsTypesByDefault(version), false, version)
  }
})

test('a JavaScript module loads on any Node', () => {
  assert.equal(typeScriptModuleProblem('app.js', { version: 'v20.19.2', typescript: undefined }), null)
  assert.equal(typeScriptModuleProblem('app.mjs', { version: 'v20.19.2', typescript: undefined }), null)
})

test('a TypeScript module loads where Node runs TypeScript', () => {
  assert.equal(typeScriptModuleProblem('app.ts', { version: 'v24.21.0', typescript: 'strip' }), null)
  assert.equal(typeScriptModuleProblem('app.mts', { version: 'v22.22.0', typescript: 'transform' }), null)
})

test('on an older Node the message names the version found, the version needed and the ways out', () => {
  const problem = typeScriptModuleProblem('app.ts', { version: 'v20.19.2', typescript: undefined })
  assert.match(problem ?? '', /app\.ts is TypeScript, which Node v20\.19\.2 cannot load/)
  assert.match(problem ?? '', /Node >= 22\.18/)
  assert.match(problem ?? '', /Node 24/)
  assert.match(problem ?? '', /\.js/)
})

test('on a recent Node with type stripping turned off the message names the flag', () => {
  const problem = typeScriptModuleProblem('app.cts', { version: 'v24.21.0', typescript: false })
  assert.match(problem ?? '', /type stripping turned off/)
  assert.match(problem ?? '', /--no-experimental-strip-types/)
})
