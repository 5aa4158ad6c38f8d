import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import {
  bearerOf,
  type EndpointSecretError,
  loadServerTls,
  parseTokens,
  readSecret,
  tokenChecker
} from '../../../src/endpoint/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'streamlane-secret-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('a token file: one token per line, `<group> <token>` binds a token to a group, comments and blanks ignored', () => {
  assert.deepEqual(parseTokens('# reader\nabc\n\norders s3cret\r\n'), [
    { token: 'abc' },
    { group: 'orders', token: 's3cret' }
  ])
})

test('only the configured token passes; a bound token grants its group only', () => {
  const check = tokenChecker(parseTokens('any-group-token\norders orders-token\nrefunds refunds-token'))
  assert.equal(check(undefined), null)
  assert.equal(check(''), null)
  assert.equal(check('wrong'), null)
  assert.equal(check('any-group-token-but-longer'), null)
  assert.deepEqual(check('any-group-token'), { groups: undefined })
  assert.deepEqual(check('orders-token'), { groups: new Set(['orders']) })
  assert.equal(tokenChecker([])('anything'), null)
})

test('the Authorization header must say Bearer and one token', () => {
  assert.equal(bearerOf('Bearer abc'), 'abc')
  assert.equal(bearerOf('bearer  abc '), 'abc')
  assert.equal(bearerOf('Basic abc'), undefined)
  assert.equal(bearerOf('Bearer a b'), undefined)
  assert.equal(bearerOf(undefined), undefined)
})

test('a secret file wins over the inline value and is trimmed; errors name the setting and path, never the content', () => {
  const file = join(dir, 'token')
  writeFileSync(file, 'from-file\n')
  assert.equal(readSecret('tokenFile', 'inline', file), 'from-file')
  assert.equal(readSecret('tokenFile', ' inline ', undefined), 'inline')
  assert.equal(readSecret('tokenFile', undefined, undefined), undefined)
  const missing = join(dir, 'absent')
  assert.throws(
    () => readSecret('tokenFile', undefined, missing),
    (e: EndpointSecretError) => e.code === 'STREAMLANE_ENDPOINT_SECRET_INVALID' && e.message.includes(missing)
  )
  const empty = join(dir, 'empty')
  writeFileSync(empty, '\n')
  assert.throws(() => readSecret('tokenFile', 'inline', empty), /tokenFile: .*empty/)
})

test('TLS material: none is plain TCP; a certificate without its key, or a client CA without TLS, is refused', () => {
  const names = { certFile: 'certFile', keyFile: 'keyFile', clientCaFile: 'clientCaFile' }
  assert.equal(loadServerTls({}, names), undefined)
  assert.throws(() => loadServerTls({ certFile: '/x.crt' }, names), /keyFile: required with certFile/)
  assert.throws(() => loadServerTls({ clientCaFile: '/ca.crt' }, names), /clientCaFile: needs certFile and keyFile/)
  const notPem = join(dir, 'not.pem')
  writeFileSync(notPem, 'hello')
  assert.throws(() => loadServerTls({ certFile: notPem, keyFile: notPem }, names), /certFile: .* is not PEM/)
})
