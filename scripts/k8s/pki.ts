/**
 * The local cluster's certificates, made with openssl in the cluster's folder: one CA that signs the API server's
 * serving certificate (127.0.0.1, localhost), the client certificate every component and test uses (group
 * system:masters), the front proxy's client certificate (the API server's calls to KEDA's metrics adapter), and the
 * service account key pair. EC P-256 keys: fast to make, and every component accepts them.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface Pki {
  dir: string
  caCert: string
  caKey: string
  serverCert: string
  serverKey: string
  adminCert: string
  adminKey: string
  frontProxyCa: string
  frontProxyCert: string
  frontProxyKey: string
  serviceAccountKey: string
  serviceAccountPub: string
  /** KEDA's folder (--cert-dir): ca.crt, tls.crt, tls.key for the operator's gRPC and the metrics adapter. */
  kedaCertDir: string
}

export class PkiError extends Error {
  readonly code = 'STREAMLANE_K8S_PKI'
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim()
    throw new PkiError(`openssl ${args[0]} failed in ${dir}: ${stderr || (error as Error).message}`)
  }
}

function key(dir: string, name: string): void {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`])
}

function selfSignedCa(dir: string, name: string, subject: string): void {
  key(dir, name)
  openssl(dir, ['req', '-x509', '-new', '-key', `${name}.key`, '-subj', subject, '-days', '30', '-out', `${name}.crt`])
}

/** A certificate signed by `ca`, with the given subject and X.509 v3 extensions (one per line). */
function signed(dir: string, ca: string, name: string, subject: string, extensions: string[]): void {
  key(dir, name)
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`])
  writeFileSync(join(dir, `${name}.ext`), `${extensions.join('\n')}\n`)
  const caFiles = ['-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial']
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    ...caFiles,
    '-days',
    '30',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`
  ])
}

const SERVER = ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth']
const CLIENT = ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth']

/** Makes the certificates once in `dir` (kept across restarts of the same cluster folder) and returns their paths. */
export function ensurePki(dir: string): Pki {
  const file = (name: string) => join(dir, name)
  const pki: Pki = {
    dir,
    caCert: file('ca.crt'),
    caKey: file('ca.key'),
    serverCert: file('apiserver.crt'),
    serverKey: file('apiserver.key'),
    adminCert: file('admin.crt'),
    adminKey: file('admin.key'),
    frontProxyCa: file('front-proxy-ca.crt'),
    frontProxyCert: file('front-proxy-client.crt'),
    frontProxyKey: file('front-proxy-client.key'),
    serviceAccountKey: file('service-account.key'),
    serviceAccountPub: file('service-account.pub'),
    kedaCertDir: file('keda')
  }
  if (existsSync(pki.serviceAccountPub)) return pki
  mkdirSync(dir, { recursive: true })
  selfSignedCa(dir, 'ca', '/CN=streamlane-local-cluster-ca')
  signed(dir, 'ca', 'apiserver', '/CN=kube-apiserver', [
    ...SERVER,
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc'
  ])
  // system:masters: every component and the tests act as cluster admin (the API server also runs AlwaysAllow).
  signed(dir, 'ca', 'admin', '/O=system:masters/CN=streamlane-local-admin', CLIENT)
  selfSignedCa(dir, 'front-proxy-ca', '/CN=streamlane-local-front-proxy-ca')
  signed(dir, 'front-proxy-ca', 'front-proxy-client', '/CN=front-proxy-client', CLIENT)
  key(dir, 'service-account')
  // KEDA's operator and adapter call each other over mutual TLS with one certificate; the API server reaches the
  // adapter as keda-metrics-apiserver.keda.svc (the name it checks) at localhost (docs/kubernetes-local.md).
  signed(dir, 'ca', 'keda', '/CN=keda', [
    'basicConstraints=CA:FALSE',
    'keyUsage=digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth,clientAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:keda-metrics-apiserver.keda.svc,DNS:keda-operator.keda.svc'
  ])
  mkdirSync(pki.kedaCertDir, { recursive: true })
  copyFileSync(pki.caCert, join(pki.kedaCertDir, 'ca.crt'))
  copyFileSync(file('keda.crt'), join(pki.kedaCertDir, 'tls.crt'))
  copyFileSync(file('keda.key'), join(pki.kedaCertDir, 'tls.key'))
  // Last: its presence tells a later start that the folder is complete.
  openssl(dir, ['ec', '-in', 'service-account.key', '-pubout', '-out', 'service-account.pub'])
  return pki
}

/** A kubeconfig that reaches the API server at `server` as the admin client. */
export function writeKubeconfig(path: string, pki: Pki, server: string): void {
  const base64 = (file: string) => readFileSync(file).toString('base64')
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server, 'certificate-authority-data': base64(pki.caCert) } }],
    users: [
      {
        name: 'admin',
        user: { 'client-certificate-data': base64(pki.adminCert), 'client-key-data': base64(pki.adminKey) }
      }
    ],
    contexts: [{ name: 'local', context: { cluster: 'local', user: 'admin' } }],
    'current-context': 'local'
  }
  // JSON is YAML: every component (and kubectl, helm) reads it.
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
}
