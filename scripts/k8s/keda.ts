/**
 * KEDA on the local control plane: its CRDs (from the pinned module's config/crd/bases), the operator and the
 * metrics adapter (binaries.ts) as processes on 127.0.0.1, and the external metrics API registered with the API
 * server's aggregation layer. The APIService names a Service of type ExternalName pointing at `localhost`, so the
 * API server dials the adapter on loopback (a ClusterIP Service would send it to an address nothing routes here).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { freePort } from '../kafka/broker.ts'
import { ensureBundle, moduleDir } from './binaries.ts'
import type { ControlPlane } from './control-plane.ts'
import { type KubeObject, objectPath } from './kube-client.ts'
import { type ManagedProcess, startProcess, waitUntil } from './processes.ts'

export const KEDA_NAMESPACE = 'keda'
const ADAPTER_SERVICE = 'keda-metrics-apiserver'
const EXTERNAL_METRICS_API = 'v1beta1.external.metrics.k8s.io'

export interface Keda {
  processes: ManagedProcess[]
  stop(): Promise<void>
}

async function applyCrds(plane: ControlPlane): Promise<void> {
  const crdDir = join(await moduleDir('keda', 'github.com/kedacore/keda/v2'), 'config/crd/bases')
  const names: string[] = []
  for (const file of readdirSync(crdDir).filter((name) => name.endsWith('.yaml'))) {
    for (const document of parseAllDocuments(readFileSync(join(crdDir, file), 'utf8'))) {
      const crd = document.toJS() as KubeObject | null
      if (!crd) continue
      await plane.client.apply(objectPath(crd), crd)
      names.push(crd.metadata.name)
    }
  }
  for (const name of names) {
    await waitUntil(
      `the CRD ${name} to be established`,
      async () => {
        const crd = await plane.client.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`)
        return (crd.status?.conditions ?? []).some(
          (c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True'
        )
      },
      { timeoutMs: 30_000 }
    )
  }
}

/** Applies KEDA's CRDs, starts its operator and metrics adapter, and waits until the external metrics API answers. */
export async function startKeda(plane: ControlPlane, log: (line: string) => void = () => {}): Promise<Keda> {
  const bin = await ensureBundle('keda', log)
  const { client, pki, kubeconfig, dir } = plane
  await applyCrds(plane)
  await client.apply(`/api/v1/namespaces/${KEDA_NAMESPACE}`, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: KEDA_NAMESPACE }
  })
  // Outside a pod: the namespace KEDA would read from its service account's files, given explicitly.
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    POD_NAMESPACE: KEDA_NAMESPACE,
    KEDA_CLUSTER_OBJECT_NAMESPACE: KEDA_NAMESPACE,
    WATCH_NAMESPACE: ''
  }
  const processes: ManagedProcess[] = []
  const stop = async () => {
    for (const proc of processes.toReversed()) await proc.stop()
  }
  try {
    const grpcPort = await freePort()
    const operatorHealthPort = await freePort()
    const operator = startProcess(
      dir,
      'keda-operator',
      bin['keda-operator']!,
      [
        '--leader-elect=false',
        '--zap-log-level=info',
        '--zap-encoder=console',
        `--metrics-bind-address=127.0.0.1:${await freePort()}`,
        `--health-probe-bind-address=127.0.0.1:${operatorHealthPort}`,
        // The adapter asks the operator for metric values over this gRPC port (mutual TLS, pki.kedaCertDir).
        `--metrics-service-bind-address=127.0.0.1:${grpcPort}`,
        `--cert-dir=${pki.kedaCertDir}`,
        `--ca-dir=${pki.kedaCertDir}`,
        // The certificates are made by pki.ts: no rotation, nothing for KEDA to patch.
        '--enable-cert-rotation=false',
        '--enable-webhook-patching=false',
        '--enable-apiservice-patching=false'
      ],
      env
    )
    processes.push(operator)
    const adapterPort = await freePort()
    const adapter = startProcess(
      dir,
      'keda-adapter',
      bin['keda-adapter']!,
      [
        `--secure-port=${adapterPort}`,
        '--bind-address=127.0.0.1',
        `--cert-dir=${pki.kedaCertDir}`,
        `--tls-cert-file=${join(pki.kedaCertDir, 'tls.crt')}`,
        `--tls-private-key-file=${join(pki.kedaCertDir, 'tls.key')}`,
        `--client-ca-file=${pki.caCert}`,
        `--lister-kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        `--metrics-service-address=127.0.0.1:${grpcPort}`,
        // Its own /metrics listener (KEDA binds it on every interface, ":<port>"; nothing here calls it).
        `--port=${await freePort()}`,
        '--zap-log-level=info'
      ],
      env
    )
    processes.push(adapter)
    await client.apply(`/api/v1/namespaces/${KEDA_NAMESPACE}/services/${ADAPTER_SERVICE}`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: ADAPTER_SERVICE, namespace: KEDA_NAMESPACE },
      spec: { type: 'ExternalName', externalName: 'localhost', ports: [{ name: 'https', port: adapterPort }] }
    })
    await client.apply(`/apis/apiregistration.k8s.io/v1/apiservices/${EXTERNAL_METRICS_API}`, {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: EXTERNAL_METRICS_API },
      spec: {
        service: { name: ADAPTER_SERVICE, namespace: KEDA_NAMESPACE, port: adapterPort },
        group: 'external.metrics.k8s.io',
        version: 'v1beta1',
        groupPriorityMinimum: 100,
        versionPriority: 100,
        // The adapter's certificate names keda-metrics-apiserver.keda.svc, which the API server checks.
        caBundle: readFileSync(pki.caCert).toString('base64')
      }
    })
    await waitUntil(
      `the external metrics API (${EXTERNAL_METRICS_API}) to be available`,
      async () => {
        const service = await client.get(`/apis/apiregistration.k8s.io/v1/apiservices/${EXTERNAL_METRICS_API}`)
        return (service.status?.conditions ?? []).some(
          (c: { type: string; status: string }) => c.type === 'Available' && c.status === 'True'
        )
      },
      { timeoutMs: 90_000, process: adapter }
    )
    await waitUntil(
      'the KEDA operator to be ready',
      async () => (await fetch(`http://127.0.0.1:${operatorHealthPort}/readyz`)).ok,
      { timeoutMs: 90_000, process: operator }
    )
    return { processes, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
