import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** PEM files made at test time with openssl: a CA, a server certificate for 127.0.0.1 / localhost, client certs. */
export interface TestCerts {
  dir: string
  caFile: string
  serverCertFile: string
  serverKeyFile: string
  /** Signed by the CA: accepted where the CA verifies clients. */
  clientCertFile: string
  clientKeyFile: string
  /** Self-signed by another CA: refused where the CA verifies clients. */
  strangerCertFile: string
  strangerKeyFile: string
  pem(file: string): Buffer
  remove(): void
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Makes the certificates (EC P-256: fast) in a fresh temporary directory; call remove() when done. */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'streamlane-certs-'))
  const key = (name: string) => openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', name])
  key('ca.key')
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    '/CN=streamlane-test-ca',
    '-days',
    '2',
    '-out',
    'ca.crt'
  ])
  const signed = (name: string, cn: string, ext: string) => {
    key(`${name}.key`)
    openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`])
    writeFileSync(join(dir, `${name}.ext`), ext)
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`
    ])
  }
  signed('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  signed('client', 'streamlane-test-client', 'extendedKeyUsage=clientAuth\n')
  key('stranger.key')
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    'stranger.key',
    '-subj',
    '/CN=stranger',
    '-days',
    '2',
    '-addext',
    'extendedKeyUsage=clientAuth',
    '-out',
    'stranger.crt'
  ])
  const at = (name: string) => join(dir, name)
  return {
    dir,
    caFile: at('ca.crt'),
    serverCertFile: at('server.crt'),
    serverKeyFile: at('server.key'),
    clientCertFile: at('client.crt'),
    clientKeyFile: at('client.key'),
    strangerCertFile: at('stranger.crt'),
    strangerKeyFile: at('stranger.key'),
    pem: (file) => readFileSync(file),
    remove: () => rmSync(dir, { recursive: true, force: true })
  }
}
