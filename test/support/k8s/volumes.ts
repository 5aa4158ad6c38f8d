/**
 * Volumes for the node agent: a folder on this machine per volume of a pod. Claims of the `local` StorageClass get a
 * PersistentVolume the agent makes for them (a hostPath under the agent's folder, named after the claim's uid, bound
 * through claimRef by the controller manager's volume binder), so a pod recreated for the same claim finds its files.
 * emptyDir is a folder of the pod; Secret and ConfigMap volumes are their keys written as files (not kept in sync).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { KubeClient, KubeObject } from '../../../scripts/k8s/kube-client.ts'

export const STORAGE_CLASS = 'local'
const PROVISIONER = 'streamlane.dev/node-agent'

export function storageClass(): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: PROVISIONER,
    reclaimPolicy: 'Retain',
    volumeBindingMode: 'Immediate'
  }
}

/** Makes a PersistentVolume for every pending claim of the `local` class that has none yet. */
export async function provisionClaims(
  client: KubeClient,
  volumesDir: string,
  log: (line: string) => void
): Promise<void> {
  const claims = await client.list('/api/v1/persistentvolumeclaims')
  for (const claim of claims) {
    if (claim.status?.phase !== 'Pending' || claim.spec.volumeName || claim.spec.storageClassName !== STORAGE_CLASS)
      continue
    const name = `pvc-${claim.metadata.uid}`
    const path = join(volumesDir, name)
    mkdirSync(path, { recursive: true })
    await client
      .create('/api/v1/persistentvolumes', {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER } },
        spec: {
          capacity: { storage: claim.spec.resources.requests.storage },
          accessModes: claim.spec.accessModes,
          storageClassName: STORAGE_CLASS,
          persistentVolumeReclaimPolicy: 'Retain',
          hostPath: { path, type: 'Directory' },
          claimRef: {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            namespace: claim.metadata.namespace,
            name: claim.metadata.name,
            uid: claim.metadata.uid
          }
        }
      })
      .then(
        () => log(`provisioned ${name} for claim ${claim.metadata.namespace}/${claim.metadata.name} at ${path}`),
        (error: Error & { status?: number }) => {
          if (error.status !== 409) throw error
        }
      )
  }
}

/** The folder on this machine that stands for one of the pod's volumes. */
export async function volumeFolder(
  client: KubeClient,
  pod: KubeObject,
  // biome-ignore lint/suspicious/noExplicitAny: a core/v1 Volume as the API returns it
  volume: any,
  podDir: string
): Promise<string> {
  const namespace = pod.metadata.namespace ?? 'default'
  if (!volume) throw new Error(`pod ${pod.metadata.name} mounts a volume it does not declare`)
  if (volume.persistentVolumeClaim) {
    const claim = await client.get(
      `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${volume.persistentVolumeClaim.claimName}`
    )
    if (!claim.spec.volumeName) throw new Error(`claim ${claim.metadata.name} is not bound yet`)
    const pv = await client.get(`/api/v1/persistentvolumes/${claim.spec.volumeName}`)
    if (!pv.spec.hostPath) throw new Error(`volume ${pv.metadata.name} is not a hostPath volume`)
    return pv.spec.hostPath.path
  }
  const folder = join(podDir, 'volumes', volume.name)
  mkdirSync(folder, { recursive: true })
  if (volume.emptyDir) return folder
  const source = volume.secret
    ? { path: `secrets/${volume.secret.secretName}`, items: volume.secret.items, decode: true }
    : volume.configMap
      ? { path: `configmaps/${volume.configMap.name}`, items: volume.configMap.items, decode: false }
      : undefined
  if (!source)
    throw new Error(`pod ${pod.metadata.name}: volume ${volume.name}: only PVC, emptyDir, secret and configMap`)
  const object = await client.get(`/api/v1/namespaces/${namespace}/${source.path}`)
  const data: Record<string, string> = object.data ?? {}
  const items: { key: string; path: string }[] = source.items ?? Object.keys(data).map((key) => ({ key, path: key }))
  for (const item of items) {
    const value = data[item.key] ?? ''
    writeFileSync(join(folder, item.path), source.decode ? Buffer.from(value, 'base64') : value, { mode: 0o600 })
  }
  return folder
}
