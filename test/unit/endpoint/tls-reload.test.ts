import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { copyFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { connect } from 'node:tls'
import { reloadTlsOnChange, type TlsReloadOutcome } from '../../../src/endpoint/index.ts'
import { makeTestCerts } from '../../support/certs.ts'
import { waitFor } from '../../support/wait.ts'

const NAMES = { certFile: 'certFile', keyFile: 'keyFile', clientCaFile: 'clientCaFile' }

/** The SHA-256 fingerprint of the certificate a new connection to the server is given. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256)
      socket.end()
    })
    socket.on('error', reject)
  })
}

test('a renewed certificate is served without a restart; a pair that does not load keeps the old one', async () => {
  const first = makeTestCerts()
  const second = makeTestCerts()
  const fingerprint = (file: string) => new X509Certificate(first.pem(file)).fingerprint256
  // The listener reads its own copies, as of a mounted Secret.
  const certFile = `${first.dir}/live.crt`
  const keyFile = `${first.dir}/live.key`
  copyFileSync(first.serverCertFile, certFile)
  copyFileSync(first.serverKeyFile, keyFile)
  const server = createServer({ cert: first.pem(certFile), key: first.pem(keyFile) }, (_req, res) => res.end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const outcomes: TlsReloadOutcome[] = []
  const watch = reloadTlsOnChange(server, { certFile, keyFile }, NAMES, {
    intervalMs: 20,
    onReload: (outcome) => outcomes.push(outcome)
  })
  try {
    assert.equal(await servedFingerprint(port), fingerprint(first.serverCertFile))

    // Only the certificate changes: it does not match the key, so the old pair stays.
    copyFileSync(second.serverCertFile, certFile)
    await waitFor('the mismatched pair reported', () => outcomes.some((o) => !o.loaded))
    assert.equal(await servedFingerprint(port), fingerprint(first.serverCertFile))
    const refused = outcomes.find((o) => !o.loaded) as { error: Error }
    assert.doesNotMatch(refused.error.message, /PRIVATE KEY/, 'no key material in the reason')

    // Then its key: the new pair is served to new connections.
    copyFileSync(second.serverKeyFile, keyFile)
    await waitFor('the new certificate served', async () => (await servedFingerprint(port)) === fingerprint(certFile))
    assert.notEqual(fingerprint(certFile), fingerprint(first.serverCertFile))
    assert.ok(outcomes.at(-1)?.loaded)

    // A file that is not PEM is reported and changes nothing.
    writeFileSync(certFile, 'not a certificate')
    await waitFor('the broken file reported', () => outcomes.at(-1)?.loaded === false)
    assert.equal(await servedFingerprint(port), new X509Certificate(second.pem(second.serverCertFile)).fingerprint256)
  } finally {
    watch.close()
    await new Promise((resolve) => server.close(resolve))
    first.remove()
    second.remove()
  }
})
