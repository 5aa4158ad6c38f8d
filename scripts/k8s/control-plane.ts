/**
 * A Kubernetes control plane on 127.0.0.1: Debian's etcd, then kube-apiserver, kube-controller-manager and
 * kube-scheduler built from k8s.io/kubernetes (binaries.ts), with the certificates of pki.ts. Nothing listens
 * beyond loopback. There is no kubelet, kube-proxy or network plugin: pods are run by the node agent of the tests
 * (test/support/k8s), and Services get a cluster IP that nothing routes (docs/kubernetes-local.md).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { join } from 'node:path'
import { freePort } from '../kafka/broker.ts'
import { ensureBundle } from './binaries.ts'
import { KubeClient } from './kube-client.ts'
import { ensurePki, type Pki, writeKubeconfig } from './pki.ts'
import { K8sProcessError, type ManagedProcess, startProcess, waitUntil } from './processes.ts'

export interface ControlPlane {
  dir: string
  /** https://127.0.0.1:<port> */
  server: string
  kubeconfig: string
  pki: Pki
  client: KubeClient
  processes: ManagedProcess[]
  stop(): Promise<void>
}

/** Only allocated, never routed: nothing here dials a cluster IP. */
export const SERVICE_CIDR = '10.96.0.0/16'

/** /healthz of a component's own HTTPS port (always allowed without credentials; its certificate is self-made). */
function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 2000 },
      (res) => {
        res.resume()
        resolve(res.statusCode === 200)
      }
    )
    req.once('error', () => resolve(false))
    req.once('timeout', () => req.destroy())
    req.end()
  })
}

function checkEtcd(): string {
  try {
    execFileSync('etcd', ['--version'], { stdio: 'ignore' })
    return 'etcd'
  } catch {
    throw new K8sProcessError('etcd is not installed: as root, apt-get install -y etcd-server (Debian)')
  }
}

/**
 * Starts the control plane in `dir` (emptied first: every start is a new cluster) and resolves once the API server
 * is ready, the controllers have created the default ServiceAccount and the scheduler answers.
 */
export async function startControlPlane(options: { dir: string; log?: (line: string) => void }): Promise<ControlPlane> {
  const { dir } = options
  const log = options.log ?? (() => {})
  const etcd = checkEtcd()
  const bin = await ensureBundle('kubernetes', log)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const pki = ensurePki(join(dir, 'pki'))
  const processes: ManagedProcess[] = []
  const stop = async () => {
    // The reverse order of starting: controllers first, etcd last.
    for (const proc of processes.toReversed()) await proc.stop()
  }
  try {
    const etcdPort = await freePort()
    const etcdPeerPort = await freePort()
    const etcdProcess = startProcess(dir, 'etcd', etcd, [
      '--name=local',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=local=http://127.0.0.1:${etcdPeerPort}`
    ])
    processes.push(etcdProcess)

    const apiPort = await freePort()
    const server = `https://127.0.0.1:${apiPort}`
    const apiserver = startProcess(dir, 'kube-apiserver', bin['kube-apiserver']!, [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      // No kubernetes Service endpoints pointing at 127.0.0.1 (a Service may not name a loopback endpoint).
      '--endpoint-reconciler-type=none',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      // Every client is the admin (system:masters); no RBAC to bootstrap for a throw-away cluster.
      '--authorization-mode=AlwaysAllow',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      // The aggregation layer (KEDA's external metrics API): the API server calls the adapter with this client
      // certificate and the user in headers, which the adapter trusts through the front proxy CA.
      `--requestheader-client-ca-file=${pki.frontProxyCa}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${pki.frontProxyCert}`,
      `--proxy-client-key-file=${pki.frontProxyKey}`,
      '--profiling=false'
    ])
    processes.push(apiserver)
    const kubeconfig = join(dir, 'kubeconfig')
    writeKubeconfig(kubeconfig, pki, server)
    const client = new KubeClient(server, pki)
    await waitUntil(
      'the API server to be ready (/readyz)',
      async () => {
        await client.call('GET', '/readyz')
        return true
      },
      { timeoutMs: 120_000, process: apiserver }
    )

    const kubeconfigFlags = [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      '--leader-elect=false'
    ]
    const controllerPort = await freePort()
    const controllers = startProcess(dir, 'kube-controller-manager', bin['kube-controller-manager']!, [
      ...kubeconfigFlags,
      `--secure-port=${controllerPort}`,
      `--cert-dir=${join(dir, 'controller-manager-certs')}`,
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      // The node agent registers its Node as Ready and keeps no heartbeat (no node Lease): without this controller
      // off, the Node would be tainted unreachable and its pods evicted after 5 minutes.
      '--controllers=*,-node-lifecycle-controller'
    ])
    processes.push(controllers)
    const schedulerPort = await freePort()
    const scheduler = startProcess(dir, 'kube-scheduler', bin['kube-scheduler']!, [
      ...kubeconfigFlags,
      `--secure-port=${schedulerPort}`,
      `--cert-dir=${join(dir, 'scheduler-certs')}`
    ])
    processes.push(scheduler)
    await waitUntil('kube-controller-manager to answer /healthz', () => healthy(controllerPort), {
      timeoutMs: 60_000,
      process: controllers
    })
    await waitUntil('kube-scheduler to answer /healthz', () => healthy(schedulerPort), {
      timeoutMs: 60_000,
      process: scheduler
    })
    await waitUntil(
      'the default ServiceAccount (made by the controller manager)',
      async () => {
        await client.get('/api/v1/namespaces/default/serviceaccounts/default')
        return true
      },
      { timeoutMs: 60_000, process: controllers }
    )
    return {
      dir,
      server,
      kubeconfig,
      pki,
      client,
      processes,
      stop: async () => {
        client.close()
        await stop()
      }
    }
  } catch (error) {
    await stop()
    throw error
  }
}
